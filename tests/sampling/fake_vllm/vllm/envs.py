import os

environment_variables = {} if os.environ.get("FAKE_VLLM_OLD") else {"VLLM_BATCH_INVARIANT": None}

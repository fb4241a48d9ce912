import os


class _Platform:
    device_type = os.environ.get("FAKE_VLLM_PLATFORM", "cuda")

    def is_cuda(self) -> bool:
        return self.device_type == "cuda"

    def has_device_capability(self, capability: int) -> bool:
        return capability <= 90  # an H100

    def is_rocm(self) -> bool:
        return False

    def is_xpu(self) -> bool:
        return False


current_platform = _Platform()

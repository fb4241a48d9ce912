"""Which published release a problem file is, recognised by its sha256.

A file's name says little (users rename, re-compress, patch); its bytes say exactly which release it
is. Known releases get their suite name and version; any other file is still read by its shape and
recorded with version ``"unknown"`` and its own sha256, so a run always says what it judged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from humaneval_lab.records import file_sha256

# sha256 of the file as published -> (suite, version)
KNOWN: dict[str, tuple[str, str]] = {
    "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101": ("humaneval+", "v0.1.10"),
    "91486741f1627101021fbe50523df08eebb5b0bf5e804b633dcd5ca3c14dbd2f": ("humaneval+-mini", "v0.1.10"),
    "298f79977b2663b8b8ab6b5fa50b17d6f23a92603d24f39e26203fe58c37eeda": ("humaneval+-noextreme", "v0.1.10"),
    "daa7661c8189924068069b0872a440b491edb60f8bdf431d5957adc88d18bae5": ("humaneval+-originfmt", "v0.1.10"),
    "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63": ("mbpp+", "v0.2.0"),
    "72d32acaea73d5606cb97041b30d45bbda9435a675369d3e31965513ee94e564": ("mbpp+-noextreme", "v0.2.0"),
    "7a5aec547b134fa297ee6c45f829298aa3f58de02547b8d8a5c3d85d9cb10efc": ("mbpp+-originfmt", "v0.2.0"),
    "57d639e77667d88930052b2b07212011c25c0bab94dfc1f19d15e1f7f558bfa9": ("mbpp+", "v0.1.0"),
    "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f": ("mbpp", "google-research"),
    "ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9": ("mbpp-sanitized", "google-research"),
    # MultiPL-E's MBPP prompts as last committed (nuprl/MultiPL-E cf9db33, 2024-07-07, before prompts/
    # moved to the Hugging Face hub)
    "cf7859bfa4202c9e158afa5969768274152180c5c53648c3625681567c116706": ("multipl-e-mbpp-cpp-reworded", "cf9db33"),
    "06b54f3b18593f7d8c027aeff1ce5f74e2e3c58f45e1386c3a4bad77742d7614": ("multipl-e-mbpp-cs-reworded", "cf9db33"),
    "e8876587dee80ebf3e5fe406e561926fe798ff6e974dda79f5199bd7ea763d0f": ("multipl-e-mbpp-d-reworded", "cf9db33"),
    "808c8b42638813d72111c85f2a49ac58cd36bbbae185216b909d9bf9f9612d08": ("multipl-e-mbpp-elixir-reworded", "cf9db33"),
    "d4e30501b46525ac11ad16fe926619056a103732207be51acc31a22a42e53411": ("multipl-e-mbpp-go-reworded", "cf9db33"),
    "3870b3eb376858bf11059d9d09cfcf412fd82b7efd86311a96f044596f95cbd3": ("multipl-e-mbpp-hs-reworded", "cf9db33"),
    "3a963fb383e888da42453a00e5e018ab4ac8746811a553ee396560b2ff0bd7f0": ("multipl-e-mbpp-java-reworded", "cf9db33"),
    "9ce3027c315341fe3adc93169199ca95c8143b74919067ac76df658f527e90ee": ("multipl-e-mbpp-jl-reworded", "cf9db33"),
    "9bb4dd80a3091fb7b79a76f046c36504b64b3e148c17f63e53a02789238b80b2": ("multipl-e-mbpp-js-reworded", "cf9db33"),
    "80e74d60bd13f6099e27d388a439221fca69978da92b7b9d31b79692b23d1e7f": ("multipl-e-mbpp-lua-reworded", "cf9db33"),
    "8803370e88200ca8f9867cbcbc65744cb744ff969c83eb506f8ca7fbdf2a3782": ("multipl-e-mbpp-ml-reworded", "cf9db33"),
    "fcd75493638224d591b8b41d30328220cb84d42ddc74be1b883a35346a7f98c6": ("multipl-e-mbpp-php-reworded", "cf9db33"),
    "a6c70da25dd36434b524d124c3259c499291650f41db618bde1e868c730d29dc": ("multipl-e-mbpp-pl-reworded", "cf9db33"),
    "3cbc00f5ed5612ba015ec8b526fe4073e4891839329094912e79e73ec160f1ae": ("multipl-e-mbpp-py-reworded", "cf9db33"),
    "99ee33bf4d4c4d4f6238f9a57c8824161684dbb0ff3dfcadbd7722f092cfe250": ("multipl-e-mbpp-r-reworded", "cf9db33"),
    "ed95ccea16e6d66a94c34510896bf7b5a2f2d3d59890c29e6c13745dd0279146": ("multipl-e-mbpp-rb-reworded", "cf9db33"),
    "3c2e12db7692af6ba7703682b4a13c9977c22cfba35f423aa47e5275324aaff2": ("multipl-e-mbpp-rkt-reworded", "cf9db33"),
    "79d6d045885289afda0ba7d7f19faa997aa7e37e9f80932ecbcbe470f3af3a25": ("multipl-e-mbpp-rs-reworded", "cf9db33"),
    "8f143c5513e80e1cbcd6a8e709976e9000f9b91ec1070fca40c16db0b00fb041": ("multipl-e-mbpp-scala-reworded", "cf9db33"),
    "9a71c37fc15b330db1e24b85f401c642217ae6e2f53115e42800350bddad45f6": ("multipl-e-mbpp-sh-reworded", "cf9db33"),
    "544646e137406eaaed92d105b28cd652831db1f51124109296e02290fcc99449": ("multipl-e-mbpp-swift-reworded", "cf9db33"),
    "d45ebbcc05d361e86fec4d3a965f9ecdf6f77f684cc05454f82e66a1730ea256": ("multipl-e-mbpp-ts-reworded", "cf9db33"),
}  # fmt: skip


def identify(path: Path, fmt: str) -> dict[str, Any]:
    """{"suite", "version", "format", "file_sha256"} of a problem file (suite: the file's stem when
    the release is not known)."""
    digest = file_sha256(path)
    suite, version = KNOWN.get(digest, (None, "unknown"))
    if suite is None:
        stem = path.name
        for suffix in (".gz", ".jsonl", ".json"):
            stem = stem.removesuffix(suffix)
        suite = stem
    return {"suite": suite, "version": version, "format": fmt, "file_sha256": digest}

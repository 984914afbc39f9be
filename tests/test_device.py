"""The device resolver (training and prediction share it) and mixed-precision settings."""

from __future__ import annotations

import pytest
import torch

from napari_seisseg.device import amp_settings, cpu_has_native_bf16, describe_device, resolve_device
from napari_seisseg.errors import SeisSegError


def test_device_choice_and_precision():
    dev = resolve_device("auto")
    assert dev.type in ("cpu", "cuda", "mps")
    assert resolve_device("cpu").type == "cpu" and describe_device(torch.device("cpu")).startswith(
        "CPU"
    )
    cpu = torch.device("cpu")
    assert amp_settings(cpu, True).describe() == "bf16"  # asked for: bf16 autocast on the CPU
    assert not amp_settings(cpu, False).enabled
    assert amp_settings(cpu, None).enabled == cpu_has_native_bf16()  # automatic: native bf16
    assert not amp_settings(torch.device("mps"), True).enabled
    if not torch.cuda.is_available():
        with pytest.raises(SeisSegError, match="no CUDA GPU"):
            resolve_device("cuda")
    else:  # pragma: no cover - GPU machines
        amp = amp_settings(torch.device("cuda"), None)
        assert amp.enabled and amp.describe() in ("bf16", "fp16 + grad scaling")


def test_none_keeps_the_model_where_it_is():
    net = torch.nn.Conv2d(1, 1, 1)
    assert resolve_device(None, net) == torch.device("cpu")
    assert resolve_device(None, lambda x: x) == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")


def test_names_are_case_insensitive_and_empty_means_auto():
    assert resolve_device("CPU") == torch.device("cpu")
    assert resolve_device("") == resolve_device("auto")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("name", ["tpu", "meta", 3.5])
def test_unknown_devices_are_refused(name):
    with pytest.raises(SeisSegError, match="Unknown device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is there")
def test_unavailable_cuda_is_refused_with_both_wordings():
    with pytest.raises(SeisSegError, match="CUDA is not available: no CUDA GPU"):
        resolve_device("cuda:1")

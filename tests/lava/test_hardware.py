"""Hardware run configurations: a clear error without Intel's extension, no error when it is present."""

import pytest
from lava.magma.core.run_configs import Loihi1HwCfg, Loihi2HwCfg, Loihi2SimCfg

from lava_biograd.lava import hardware


def test_extension_absent_in_public_lava():
    assert set(hardware.missing_extension_modules()) == set(hardware.EXTENSION_MODULES)
    assert hardware.extension_available() is False


@pytest.mark.parametrize("config_class", [Loihi1HwCfg, Loihi2HwCfg])
def test_check_rejects_hardware_without_extension(config_class):
    with pytest.raises(RuntimeError, match="Lava-Loihi extension") as error:
        hardware.check_run_config(config_class())
    assert "INRC" in str(error.value)
    assert "Loihi2SimCfg(select_tag='floating_pt' or 'fixed_pt')" in str(error.value)


def test_check_passes_simulation_configs():
    for tag in ("floating_pt", "fixed_pt"):
        config = Loihi2SimCfg(select_tag=tag)
        assert hardware.check_run_config(config) is config


def test_check_passes_hardware_with_extension(monkeypatch):
    monkeypatch.setattr(hardware, "extension_available", lambda: True)
    config = Loihi2HwCfg()
    assert hardware.check_run_config(config) is config
    assert isinstance(hardware.make_run_config("loihi2-hw"), Loihi2HwCfg)


def test_check_rejects_non_config():
    with pytest.raises(TypeError, match="RunConfig"):
        hardware.check_run_config("loihi2-hw")


def test_make_run_config_names():
    float_config = hardware.make_run_config("sim-float")
    fixed_config = hardware.make_run_config("sim-fixed")
    assert isinstance(float_config, Loihi2SimCfg) and float_config.select_tag == "floating_pt"
    assert isinstance(fixed_config, Loihi2SimCfg) and fixed_config.select_tag == "fixed_pt"
    with pytest.raises(RuntimeError, match="Lava-Loihi extension"):
        hardware.make_run_config("loihi2-hw")
    with pytest.raises(ValueError, match="sim-float"):
        hardware.make_run_config("loihi1-hw")

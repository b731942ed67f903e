import pytest
from pydantic import ValidationError

from hybridmcp_app.core.errors import describe_validation_error
from hybridmcp_app.core.parameters import MAX_STOP_SEQUENCES, ModelParameters


def test_defaults_are_valid_and_balanced() -> None:
    params = ModelParameters()
    assert params.temperature == 0.7
    assert params.max_tokens == 512
    assert params.stop == ()


@pytest.mark.parametrize("temperature", [-0.1, 2.5, 100.0])
def test_temperature_outside_zero_to_two_is_rejected_with_the_range_named(
    temperature: float,
) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelParameters(temperature=temperature)
    (line,) = describe_validation_error(caught.value)
    assert line.startswith("temperature:")
    assert "between 0.0 and 2.0" in line
    assert str(temperature) in line


@pytest.mark.parametrize("temperature", [0.0, 2.0, 1.3])
def test_temperature_at_and_inside_the_bounds_is_accepted(temperature: float) -> None:
    assert ModelParameters(temperature=temperature).temperature == temperature


def test_top_p_of_zero_is_rejected() -> None:
    with pytest.raises(ValidationError, match="top_p must be greater than 0"):
        ModelParameters(top_p=0.0)


def test_max_tokens_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="max_tokens"):
        ModelParameters(max_tokens=0)


def test_too_many_or_empty_stop_sequences_are_rejected() -> None:
    with pytest.raises(ValidationError, match="stop"):
        ModelParameters(stop=tuple(f"s{i}" for i in range(MAX_STOP_SEQUENCES + 1)))
    with pytest.raises(ValidationError, match="stop"):
        ModelParameters(stop=("",))


def test_unknown_parameters_are_rejected_to_catch_typos() -> None:
    with pytest.raises(ValidationError, match="temprature"):
        ModelParameters.model_validate({"temprature": 0.2})


def test_parameters_are_immutable() -> None:
    with pytest.raises(ValidationError):
        ModelParameters().temperature = 1.0  # type: ignore[misc]

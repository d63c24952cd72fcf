"""Exception and warning classes shared by every rfsim module."""


class RFSimError(ValueError):
    """Invalid input to an rfsim function: the message names the value and the fix."""


class DataError(RFSimError):
    """A data file is missing, corrupt or has the wrong layout."""


class RFSimWarning(UserWarning):
    """Base class of the warnings that rfsim emits."""


class DivergenceWarning(RFSimWarning):
    """Parameters lie outside the region where the discrete neuron dynamics converge."""

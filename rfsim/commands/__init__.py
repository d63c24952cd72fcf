"""The commands of ``rfsim``, one module per topic, registered on the group in ``rfsim.cli``."""

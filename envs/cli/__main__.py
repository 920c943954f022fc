"""`python -m airgap.envs.cli`: the same as the `airgap` command."""
from airgap.envs.cli import main

main()

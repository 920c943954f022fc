"""airgap.envs: gymnasium worlds over the sandbox and the offline web, episode logs, replay, agents."""

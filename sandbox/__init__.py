"""airgap.sandbox: isolated, network-less containers, the logging gateway, the in-container init, pools."""

// Simulated daemons that speak the native protocol to a Hypha node.

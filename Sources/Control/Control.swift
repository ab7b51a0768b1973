/// The control plane: daemon registry, health, alerts, task leases and configuration rollouts.
///
/// It reads what Ingest sees (record model only) and runs inside `hypha serve`. Its parts
/// arrive with the control-plane issues; the module exists now so the package layout is fixed.
public enum ControlPlane {}

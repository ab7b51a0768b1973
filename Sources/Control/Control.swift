public enum ControlPlaceholder {}

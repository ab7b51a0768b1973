/// The agent's version, sent in HELLO as `hypha-agent/<version>`.
public enum AgentVersion {
    public static let current = "0.4.0"
}

namespace Federation.Core.Scrolls;

/// <summary>The scroll names of a federation (a format: docs/formats/scroll-storage.md); everything is scoped by federation id.</summary>
public static class FederationScrolls
{
    public static string Membership(string federationId) => federationId + ".membership";

    public static string Updates(string federationId) => federationId + ".updates";

    public static string Verification(string federationId) => federationId + ".verification";

    public static string Governance(string federationId) => federationId + ".governance";

    /// <summary>Every scroll of a federation, in the order they are anchored.</summary>
    public static IReadOnlyList<string> All(string federationId) =>
        [Governance(federationId), Membership(federationId), Updates(federationId), Verification(federationId)];

    /// <summary>Federation ids become scroll names and keys: lowercase letters, digits and '-', up to 32.</summary>
    public static string ValidateFederationId(string federationId) =>
        System.Text.RegularExpressions.Regex.IsMatch(federationId, "^[a-z0-9][a-z0-9-]{0,31}$")
            ? federationId
            : throw new FormatException($"federation id \"{federationId}\" must be 1 to 32 lowercase letters, digits or '-', starting with a letter or digit");
}

using System.Text.Json;

namespace Federation.Cli;

/// <summary>
/// The settings <c>fed</c> reads from <c>appsettings.json</c> in the working directory (or the file named
/// by <c>FED_SETTINGS</c>); command-line options override them.
/// </summary>
/// <param name="AnchorFile">The anchor file when configured (<c>Federation:Scrolls:AnchorFile</c>); see <see cref="AnchorPath"/>.</param>
public sealed record FedSettings(string DataDirectory, string ScrollStore, string? ConnectionString, string? ScrollKey, string? AnchorFile, string OriginPrefix)
{
    /// <summary>
    /// Where anchors go: the configured file, else <c>&lt;data&gt;/merkle/meta_M5.merk</c> — under the data directory, so
    /// a command run from a repository never writes into its committed <c>artifacts/</c> unless told to.
    /// </summary>
    public string AnchorPath => AnchorFile ?? Path.Combine(DataDirectory, "merkle", "meta_M5.merk");

    public const string DefaultDataDirectory = "data";
    public const string DefaultScrollStore = "file";
    public const string DefaultOriginPrefix = "federation-orleans";

    public static FedSettings Load()
    {
        var path = Environment.GetEnvironmentVariable("FED_SETTINGS") ?? "appsettings.json";
        if (!File.Exists(path))
        {
            return new FedSettings(DefaultDataDirectory, DefaultScrollStore, null, null, null, DefaultOriginPrefix);
        }

        using var document = SettingsFile.Read(path);
        var root = document.RootElement;
        string? Get(params string[] pathParts)
        {
            var element = root;
            foreach (var part in pathParts)
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element))
                {
                    return null;
                }
            }

            return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        }

        // Paths in the file are relative to the file (as the coordinator reads them), not to the working directory.
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? Relative(string? value) => value is null ? null : Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(directory, value));
        return new FedSettings(
            Relative(Get("Federation", "DataDirectory")) ?? DefaultDataDirectory,
            Get("Federation", "Scrolls", "Store") ?? DefaultScrollStore,
            Get("ConnectionStrings", "Federation"),
            Relative(Get("Federation", "Scrolls", "SigningKey")),
            Relative(Get("Federation", "Scrolls", "AnchorFile")),
            Get("Federation", "Scrolls", "OriginPrefix") ?? DefaultOriginPrefix);
    }
}

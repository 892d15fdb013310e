using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace Federation.Storage.Orleans;

/// <summary>Options of a <see cref="FileGrainStorage"/> (named by its storage name).</summary>
public sealed class FileGrainStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>The folder under <see cref="DataDirectory"/> that holds every file grain storage.</summary>
    public const string GrainsFolder = "grains";

    public const string StateFileExtension = ".json";

    /// <summary>After the runtime's services, before grains activate (as Orleans' own storages).</summary>
    public const int DefaultInitStage = ServiceLifecycleStage.ApplicationServices;

    /// <summary>The node's data directory (required); state goes to <c>&lt;DataDirectory&gt;/grains/&lt;storage name&gt;/</c>.</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>A reading command's silo: no folder is created and every write or clear is refused (reading never writes).</summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// The state's serializer: the project's protocol JSON unless set. Not Orleans' silo-wide default, which writes
    /// Newtonsoft JSON with <c>$type</c>. It must write JSON: the file embeds it.
    /// </summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = ProtocolJsonGrainStorageSerializer.Instance;

    /// <summary>The silo lifecycle stage at which the storage creates its folder.</summary>
    public int InitStage { get; set; } = DefaultInitStage;
}

/// <summary>Rejects unusable <see cref="FileGrainStorageOptions"/> when the silo starts, saying which setting and why.</summary>
public sealed class FileGrainStorageOptionsValidator(FileGrainStorageOptions options, string name) : IConfigurationValidator
{
    public void ValidateConfiguration() => Validate(options, name);

    internal static void Validate(FileGrainStorageOptions options, string name)
    {
        string? problem = null;
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            problem = $"{nameof(FileGrainStorageOptions.DataDirectory)} is required (the node's data directory; state goes to <DataDirectory>/{FileGrainStorageOptions.GrainsFolder}/{name}/)";
        }
        else if (options.GrainStorageSerializer is null)
        {
            problem = $"{nameof(FileGrainStorageOptions.GrainStorageSerializer)} is null";
        }
        else if (options.InitStage < ServiceLifecycleStage.RuntimeServices)
        {
            problem = $"{nameof(FileGrainStorageOptions.InitStage)} {options.InitStage} is before the runtime's services ({ServiceLifecycleStage.RuntimeServices})";
        }

        if (problem is not null)
        {
            throw new OrleansConfigurationException($"Invalid {nameof(FileGrainStorageOptions)} for file grain storage \"{name}\": {problem}.");
        }
    }
}

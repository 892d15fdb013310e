namespace Federation.Hosting.Configuration;

/// <summary>Where state and reminders live (configuration section <c>Hosting</c>).</summary>
public sealed class GrainStorageOptions
{
    public const string SectionName = "Hosting";
    public const string DefaultDataDirectory = "data";
    public const string DefaultStorageName = "Default";
    public const string FileProvider = "file";
    public const string PostgresProvider = "postgres";
    public const string MemoryProvider = "memory";

    /// <summary>Root of the embedded stores: grain state under <c>grains/</c>, reminders under <c>reminders/</c>.</summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory;

    /// <summary><c>file</c> (default), <c>postgres</c> or <c>memory</c>.</summary>
    public string StorageProvider { get; set; } = FileProvider;

    /// <summary><c>file</c> (default), <c>postgres</c> or <c>memory</c>.</summary>
    public string ReminderProvider { get; set; } = FileProvider;

    /// <summary>Npgsql connection string; required when a provider is <c>postgres</c>.</summary>
    public string? PostgresConnectionString { get; set; }

    public IEnumerable<string> Validate()
    {
        string[] known = [FileProvider, PostgresProvider, MemoryProvider];
        if (!known.Contains(StorageProvider))
        {
            yield return $"Hosting:StorageProvider is '{StorageProvider}'; expected one of {string.Join(", ", known)}";
        }

        if (!known.Contains(ReminderProvider))
        {
            yield return $"Hosting:ReminderProvider is '{ReminderProvider}'; expected one of {string.Join(", ", known)}";
        }

        if ((StorageProvider == PostgresProvider || ReminderProvider == PostgresProvider) && string.IsNullOrWhiteSpace(PostgresConnectionString))
        {
            yield return "Hosting:PostgresConnectionString is required when a provider is 'postgres'";
        }

        if ((StorageProvider == FileProvider || ReminderProvider == FileProvider) && string.IsNullOrWhiteSpace(DataDirectory))
        {
            yield return "Hosting:DataDirectory is required when a provider is 'file'";
        }
    }
}

/// <summary>Idle collection (section <c>Hosting:Collection</c>).</summary>
public sealed class GrainCollectionOptions
{
    public const string SectionName = "Hosting:Collection";

    /// <summary>Orleans' default: an activation idle this long is collected.</summary>
    public static readonly TimeSpan DefaultCollectionAge = TimeSpan.FromMinutes(15);

    /// <summary>How often the collector looks for idle activations (Orleans: 1 min).</summary>
    public static readonly TimeSpan DefaultCollectionQuantum = TimeSpan.FromMinutes(1);

    /// <summary>How long a graceful stop waits for running requests and OnDeactivateAsync before abandoning an activation.</summary>
    public static readonly TimeSpan DefaultDeactivationTimeout = TimeSpan.FromSeconds(30);

    public TimeSpan CollectionAge { get; set; } = DefaultCollectionAge;

    public TimeSpan DeactivationTimeout { get; set; } = DefaultDeactivationTimeout;

    public TimeSpan CollectionQuantum { get; set; } = DefaultCollectionQuantum;

    public IEnumerable<string> Validate()
    {
        if (CollectionAge <= TimeSpan.Zero)
        {
            yield return $"Hosting:Collection:CollectionAge must be positive (is {CollectionAge})";
        }

        if (CollectionQuantum <= TimeSpan.Zero || CollectionQuantum > CollectionAge)
        {
            yield return $"Hosting:Collection:CollectionQuantum must be positive and at most the collection age (is {CollectionQuantum})";
        }

        if (DeactivationTimeout <= TimeSpan.Zero)
        {
            yield return $"Hosting:Collection:DeactivationTimeout must be positive (is {DeactivationTimeout})";
        }
    }
}

/// <summary>Calls between grains (section <c>Hosting:Messaging</c>).</summary>
public sealed class GrainMessagingOptions
{
    public const string SectionName = "Hosting:Messaging";

    /// <summary>Orleans' default response timeout.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Bound on nested grain calls (A calls B calls C …); deeper chains are refused.</summary>
    public const int DefaultMaxCallChainLength = 64;

    public TimeSpan CallTimeout { get; set; } = DefaultCallTimeout;

    public int MaxCallChainLength { get; set; } = DefaultMaxCallChainLength;

    public IEnumerable<string> Validate()
    {
        if (CallTimeout <= TimeSpan.Zero)
        {
            yield return $"Hosting:Messaging:CallTimeout must be positive (is {CallTimeout})";
        }

        if (MaxCallChainLength < 2)
        {
            yield return $"Hosting:Messaging:MaxCallChainLength must be at least 2 (is {MaxCallChainLength})";
        }
    }
}

/// <summary>Durable reminders (section <c>Hosting:Reminders</c>).</summary>
public sealed class ReminderOptions
{
    public const string SectionName = "Hosting:Reminders";

    /// <summary>Orleans' default minimum period; tests lower it.</summary>
    public static readonly TimeSpan DefaultMinimumPeriod = TimeSpan.FromMinutes(1);

    public TimeSpan MinimumPeriod { get; set; } = DefaultMinimumPeriod;

    public IEnumerable<string> Validate()
    {
        if (MinimumPeriod <= TimeSpan.Zero)
        {
            yield return $"Hosting:Reminders:MinimumPeriod must be positive (is {MinimumPeriod})";
        }
    }
}

/// <summary>OpenTelemetry export (section <c>Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>OTLP/HTTP (protobuf) endpoint, e.g. http://127.0.0.1:4318; null disables export.</summary>
    public string? OtlpEndpoint { get; set; }

    public IEnumerable<string> Validate()
    {
        if (OtlpEndpoint is not null && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
        {
            yield return $"Telemetry:OtlpEndpoint '{OtlpEndpoint}' is not an absolute URI";
        }
    }
}

using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace Federation.Storage.Orleans;

/// <summary>Options of the <see cref="FileReminderTable"/>.</summary>
public sealed class FileReminderTableOptions
{
    /// <summary>The folder under <see cref="DataDirectory"/> that holds the reminder files.</summary>
    public const string RemindersFolder = "reminders";

    public const string FileExtension = ".json";

    /// <summary>The node's data directory (required); reminders go to <c>&lt;DataDirectory&gt;/reminders/</c>.</summary>
    public string DataDirectory { get; set; } = "";
}

/// <summary>Rejects unusable <see cref="FileReminderTableOptions"/> when the silo starts, saying which setting and why.</summary>
public sealed class FileReminderTableOptionsValidator(IOptions<FileReminderTableOptions> options) : IConfigurationValidator
{
    public void ValidateConfiguration() => Validate(options.Value);

    internal static void Validate(FileReminderTableOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            throw new OrleansConfigurationException(
                $"Invalid {nameof(FileReminderTableOptions)} for the file reminder table: {nameof(FileReminderTableOptions.DataDirectory)} is required (the node's data directory; reminders go to <DataDirectory>/{FileReminderTableOptions.RemindersFolder}/).");
        }
    }
}

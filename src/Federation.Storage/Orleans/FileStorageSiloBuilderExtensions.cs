using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Federation.Storage.Orleans;

/// <summary>
/// Wiring of the embedded default's Orleans providers: file grain storage, the file reminder table, and the
/// protocol JSON serializer as the silo's default grain storage serializer.
/// </summary>
public static class FileStorageSiloBuilderExtensions
{
    /// <summary>File grain storage named <paramref name="name"/> (the <c>storageName</c> of <c>[PersistentState]</c>).</summary>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, Action<FileGrainStorageOptions> configureOptions) =>
        builder.ConfigureServices(services => services.AddFileGrainStorage(name, ob => ob.Configure(configureOptions)));

    /// <summary>File grain storage as the default storage (<see cref="ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME"/>, "Default").</summary>
    public static ISiloBuilder AddFileGrainStorageAsDefault(this ISiloBuilder builder, Action<FileGrainStorageOptions> configureOptions) =>
        builder.AddFileGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configureOptions);

    /// <summary>File grain storage named <paramref name="name"/>, options from an <see cref="OptionsBuilder{TOptions}"/> (configuration binding).</summary>
    public static IServiceCollection AddFileGrainStorage(this IServiceCollection services, string name, Action<OptionsBuilder<FileGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        configureOptions?.Invoke(services.AddOptions<FileGrainStorageOptions>(name));
        services.ConfigureNamedOptionForLogging<FileGrainStorageOptions>(name);
        services.AddTransient<IConfigurationValidator>(sp => new FileGrainStorageOptionsValidator(sp.GetRequiredService<IOptionsMonitor<FileGrainStorageOptions>>().Get(name), name));
        return services.AddGrainStorage(name, static (sp, storageName) =>
            ActivatorUtilities.CreateInstance<FileGrainStorage>(sp, storageName, sp.GetRequiredService<IOptionsMonitor<FileGrainStorageOptions>>().Get(storageName)));
    }

    /// <summary>Reminders (Orleans' reminder service) kept by the <see cref="FileReminderTable"/>.</summary>
    public static ISiloBuilder UseFileReminderTable(this ISiloBuilder builder, Action<FileReminderTableOptions> configureOptions) =>
        builder.ConfigureServices(services => services.UseFileReminderTable(ob => ob.Configure(configureOptions)));

    /// <summary>Reminders kept by the <see cref="FileReminderTable"/>, options from an <see cref="OptionsBuilder{TOptions}"/>.</summary>
    public static IServiceCollection UseFileReminderTable(this IServiceCollection services, Action<OptionsBuilder<FileReminderTableOptions>>? configureOptions = null)
    {
        services.AddReminders();
        configureOptions?.Invoke(services.AddOptions<FileReminderTableOptions>());
        services.ConfigureFormatter<FileReminderTableOptions>();
        services.AddSingleton<IConfigurationValidator, FileReminderTableOptionsValidator>();
        services.RemoveAll<IReminderTable>();
        services.AddSingleton<FileReminderTable>();
        services.AddSingleton<IReminderTable>(sp => sp.GetRequiredService<FileReminderTable>());
        return services;
    }

    /// <summary>
    /// Makes <see cref="ProtocolJsonGrainStorageSerializer"/> the silo's default <see cref="IGrainStorageSerializer"/>,
    /// in place of Orleans' (Newtonsoft JSON with <c>$type</c>), for every storage that takes the default (ADO.NET,
    /// memory). Setting a storage's <c>GrainStorageSerializer</c> option directly does the same for that one.
    /// </summary>
    public static ISiloBuilder UseProtocolJsonGrainStorageSerializer(this ISiloBuilder builder)
    {
        builder.Services.RemoveAll<IGrainStorageSerializer>();
        builder.Services.AddSingleton<IGrainStorageSerializer>(ProtocolJsonGrainStorageSerializer.Instance);
        return builder;
    }
}

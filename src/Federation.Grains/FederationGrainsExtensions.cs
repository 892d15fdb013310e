using Federation.Grains.Services;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Federation.Grains;

public static class FederationGrainsExtensions
{
    /// <summary>
    /// Adds the per-silo services the federation grains share (one <c>Add&lt;Feature&gt;()</c>, STYLE.md): the configured
    /// federations and validators (read-only after start), the directory the scroll grains open their ledgers from, the
    /// governance log and the metrics. Orleans finds the grain classes themselves in this assembly. The caller keeps
    /// ownership of the instances passed in (the container does not dispose them).
    /// </summary>
    public static ISiloBuilder AddFederationGrains(this ISiloBuilder silo, FederationDirectory federations, LedgerDirectory ledgers,
        ValidatorDirectory? validators = null, GovernanceLog? governanceLog = null, EpochOptions? epochs = null, Federation.AnchorOptions? anchors = null)
    {
        var services = silo.Services;
        governanceLog ??= new GovernanceLog(GovernanceLog.FileName);

        // Anchors go beside the governance log (the data directory) unless configured otherwise.
        services.AddSingleton(anchors ?? new Federation.AnchorOptions
        {
            AnchorFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(governanceLog.Path))!, "merkle", "meta_M5.merk"),
        });
        services.AddSingleton((epochs ?? new EpochOptions()).Validate());
        services.AddSingleton(federations);
        services.AddSingleton(ledgers);
        services.AddSingleton<EpochHints>();
        services.AddSingleton<SealBatcher>();
        services.AddSingleton(validators ?? new ValidatorDirectory());
        services.AddSingleton(governanceLog);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<Telemetry.FederationMetrics>();
        return silo;
    }
}

using Federation.Grains.Federation;
using Federation.Grains.Node;
using Federation.Grains.Scroll;
using Federation.Grains.Services;
using Federation.Hosting;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Grains;

public static class FederationGrainsExtensions
{
    /// <summary>
    /// Adds the federation grains and the services they share (one <c>Add&lt;Feature&gt;()</c>, STYLE.md).
    /// The <see cref="IngestGateway"/> is made from the started host's grain factory.
    /// </summary>
    public static GrainHostBuilder AddFederationGrains(this GrainHostBuilder builder, FederationDirectory federations, LedgerDirectory ledgers,
        ValidatorDirectory? validators = null, GovernanceLog? governanceLog = null, EpochOptions? epochs = null)
    {
        builder.Services.AddSingleton((epochs ?? new EpochOptions()).Validate());
        builder.Services.AddSingleton(federations);
        builder.Services.AddSingleton(ledgers);
        builder.Services.AddSingleton(validators ?? new ValidatorDirectory());
        builder.Services.AddSingleton(governanceLog ?? new GovernanceLog(GovernanceLog.FileName));
        builder.Services.AddSingleton<UpdateIndex>();
        builder.Services.AddSingleton<EpochBoard>();
        builder.Services.AddMetrics();
        // The metrics read the grains' clock (Orleans resolves TimeProvider from the container; this host, from its scheduler).
        builder.Services.AddSingleton(sp => new Telemetry.FederationMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<global::Federation.Hosting.Scheduling.IGrainScheduler>().TimeProvider));
        return builder
            .AddGrain<FederationGrain>()
            .AddGrain<NodeGrain>()
            .AddGrain<ScrollGrain>()
            .AddGrain<Epoch.EpochGrain>()
            .AddGrain<Epoch.ValidatorGrain>()
            .AddGrain<Governance.ReviewGrain>()
            .AddGrain<Governance.AdvisoryGrain>()
            .AddGrain<Governance.AdvisoryIndexGrain>();
    }
}

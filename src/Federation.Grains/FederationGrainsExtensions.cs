using Federation.Grains.Federation;
using Federation.Grains.Node;
using Federation.Grains.Scroll;
using Federation.Grains.Services;
using Federation.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Grains;

public static class FederationGrainsExtensions
{
    /// <summary>
    /// Adds the federation grains and the services they share (one <c>Add&lt;Feature&gt;()</c>, STYLE.md).
    /// The <see cref="IngestGateway"/> is made from the started host's grain factory.
    /// </summary>
    public static GrainHostBuilder AddFederationGrains(this GrainHostBuilder builder, FederationDirectory federations, LedgerDirectory ledgers)
    {
        builder.Services.AddSingleton(federations);
        builder.Services.AddSingleton(ledgers);
        builder.Services.AddSingleton<UpdateIndex>();
        builder.Services.AddSingleton<EpochBoard>();
        return builder
            .AddGrain<FederationGrain>()
            .AddGrain<NodeGrain>()
            .AddGrain<ScrollGrain>();
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Federation.Hosting;

/// <summary>Runs a <see cref="GrainHost"/> inside a generic host (the server): started and stopped with it.</summary>
public static class GrainHostServiceCollectionExtensions
{
    /// <summary>
    /// Registers <paramref name="grainHost"/> as a hosted service, and its <see cref="IGrainFactory"/> and
    /// <see cref="IGrainManagement"/> for the application's own services (usable once the host has started).
    /// </summary>
    public static IServiceCollection AddGrainHost(this IServiceCollection services, GrainHost grainHost)
    {
        services.AddSingleton(grainHost);
        services.AddHostedService(_ => grainHost);
        services.AddSingleton(_ => grainHost.GrainFactory);
        services.AddSingleton(_ => grainHost.Management);
        return services;
    }
}

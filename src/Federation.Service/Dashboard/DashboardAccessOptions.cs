using Microsoft.Extensions.Configuration;

namespace Federation.Service.Dashboard;

/// <summary>
/// How the dashboard's browser sessions work (<c>Service:Dashboard</c>): how long a login lasts. Bad settings stop
/// start-up with a message naming the setting.
/// </summary>
public sealed record DashboardAccessOptions
{
    public const string SectionName = "Service:Dashboard";

    /// <summary>A login lasts this long from the moment it was made (it does not slide: the dashboard polls every second).</summary>
    public static readonly TimeSpan DefaultSessionLifetime = TimeSpan.FromHours(8);

    public static readonly TimeSpan MinSessionLifetime = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan MaxSessionLifetime = TimeSpan.FromDays(7);

    public TimeSpan SessionLifetime { get; init; } = DefaultSessionLifetime;

    /// <exception cref="ArgumentException">A setting is out of range or not a time span (naming it).</exception>
    public static DashboardAccessOptions Load(IConfiguration configuration)
    {
        var text = configuration.GetSection(SectionName)[nameof(SessionLifetime)];
        if (text is null)
        {
            return new DashboardAccessOptions();
        }

        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var lifetime) && lifetime >= MinSessionLifetime && lifetime <= MaxSessionLifetime
            ? new DashboardAccessOptions { SessionLifetime = lifetime }
            : throw new ArgumentException($"{SectionName}:{nameof(SessionLifetime)} must be a time span from {MinSessionLifetime} to {MaxSessionLifetime} (d.hh:mm:ss), not \"{text}\"");
    }
}

using Federation.Storage.Orleans.Tests.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Federation.Storage.Orleans.Tests.Reminders;

/// <summary>
/// The reminder-table contract over Orleans' ADO.NET reminder table on the project's PostgreSQL schema: one migrated
/// database for the class, a service id of its own per test (the table's rows are per service).
/// </summary>
public sealed class PostgresReminderTableTests(MigratedPostgresDatabaseFixture fixture)
    : ReminderTableContract, IClassFixture<MigratedPostgresDatabaseFixture>, IDisposable
{
    private readonly string _serviceId = "reminders-" + Guid.NewGuid().ToString("N");
    private readonly List<ServiceProvider> _providers = [];

    /// <summary>
    /// PostgreSQL keeps microseconds; the contract's StartAt has a 100 ns digit (…0.1234567), which reads back
    /// without it. Orleans computes ticks in milliseconds, so the lost tenth of a microsecond changes nothing.
    /// </summary>
    protected override TimeSpan StartAtResolution => TimeSpan.FromMicroseconds(1);

    /// <summary>Orleans' own table (internal to its package), built the way a silo builds it.</summary>
    protected override IReminderTable CreateTable()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = "reminders";
            o.ServiceId = _serviceId;
        });
        services.UseAdoNetReminderService(ob => ob.Configure(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = fixture.Database.ConnectionString;
        }));
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<IReminderTable>();
    }

    public void Dispose()
    {
        foreach (var provider in _providers)
        {
            provider.Dispose();
        }
    }

    [Fact]
    public async Task A_reminder_row_is_stored_with_its_grain_hash_as_a_signed_integer_and_its_period_in_milliseconds()
    {
        var grain = NewGrain();
        await Table.UpsertRow(Reminder(grain, "stored", minutes: 3));

        var (hash, period) = (
            await fixture.Database.ScalarAsync<int>("SELECT GrainHash FROM OrleansRemindersTable WHERE ServiceId = @s", ("s", _serviceId)),
            await fixture.Database.ScalarAsync<long>("SELECT Period FROM OrleansRemindersTable WHERE ServiceId = @s", ("s", _serviceId)));

        Assert.Equal(unchecked((int)grain.GetUniformHashCode()), hash);
        Assert.Equal(180_000L, period);
    }
}

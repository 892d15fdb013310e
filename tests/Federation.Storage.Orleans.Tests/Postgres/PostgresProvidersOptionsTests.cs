using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService;
using Orleans.Storage;

namespace Federation.Storage.Orleans.Tests.Postgres;

/// <summary>
/// What <c>UseFederationPostgres</c> and its parts refuse when the silo (or client) is configured, and what they
/// register, without starting anything or reaching a database. There is no invariant setting to get wrong: every
/// provider is given <c>"Npgsql"</c>, which the last tests check.
/// </summary>
public sealed class PostgresProvidersOptionsTests
{
    private const string ConnectionString = "Host=127.0.0.1;Port=5432;Username=postgres;Database=fed";
    private const string OtherConnectionString = "Host=127.0.0.1;Port=5432;Username=postgres;Database=fed_other";

    public static TheoryData<string, Action<PostgresProvidersOptions>, string> Refused => new()
    {
        { "no connection string", o => o.ConnectionString = "", "ConnectionString is required" },
        { "a blank connection string", o => o.ConnectionString = "  ", "ConnectionString is required" },
        { "a misspelt keyword", o => o.ConnectionString = "Hots=127.0.0.1", "ConnectionString is not an Npgsql connection string" },
        { "a SQL Server connection string", o => o.ConnectionString = "Server=.;Database=fed;Trusted_Connection=True", "ConnectionString is not an Npgsql connection string" },
        { "an empty storage name", o => o.GrainStorageNames.Add(" "), "GrainStorageNames has an empty name" },
        { "a storage named twice", o => o.GrainStorageNames.Add("Default"), "GrainStorageNames names a storage twice (Default, Default)" },
        { "migration when membership starts", o => o.MigrationStage = ServiceLifecycleStage.RuntimeGrainServices, "MigrationStage 8000 is not before membership reads its table (8000)" },
        { "migration after grain storage starts", o => o.MigrationStage = ServiceLifecycleStage.Active, "MigrationStage 20000 is not before membership" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_bad_setting_stops_the_configuration_naming_it(string _, Action<PostgresProvidersOptions> spoil, string problem)
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => BuildSilo(silo => silo.UseFederationPostgres(o =>
        {
            o.ConnectionString = ConnectionString;
            spoil(o);
        })));

        Assert.StartsWith("Invalid PostgresProvidersOptions: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_malformed_connection_string_is_reported_with_npgsqls_reason_and_without_the_string()
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => BuildSilo(silo => silo.UseFederationPostgres("Host=db;Pasword=secret")));

        Assert.Contains("pasword", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void The_separate_parts_refuse_what_the_whole_refuses()
    {
        Assert.Contains("ConnectionString is required",
            Assert.Throws<OrleansConfigurationException>(() => BuildSilo(silo => silo.UseFederationPostgresClustering(""))).Message);
        Assert.Contains("ConnectionString is not an Npgsql connection string",
            Assert.Throws<OrleansConfigurationException>(() => BuildSilo(silo => silo.UseFederationPostgresReminders("Hots=x"))).Message);
        Assert.Contains("ConnectionString is required",
            Assert.Throws<OrleansConfigurationException>(() => BuildSilo(silo => silo.AddFederationPostgresGrainStorage("ledger", ""))).Message);
        Assert.Contains("MigrationStage 8000 is not before membership",
            Assert.Throws<OrleansConfigurationException>(() => BuildSilo(silo => silo.AddFederationPostgresSchema(ConnectionString, ServiceLifecycleStage.RuntimeGrainServices))).Message);
        Assert.Throws<ArgumentException>(() => BuildSilo(silo => silo.AddFederationPostgresGrainStorage(" ", ConnectionString)));
    }

    [Theory]
    [InlineData("", "ConnectionString is required")]
    [InlineData("Hots=127.0.0.1", "ConnectionString is not an Npgsql connection string")]
    public void A_client_with_a_bad_connection_string_stops_at_configuration(string connectionString, string problem)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());

        var error = Assert.Throws<OrleansConfigurationException>(() => builder.UseOrleansClient(client => client.UseFederationPostgresClustering(connectionString)));

        Assert.StartsWith("Invalid PostgreSQL clustering for the client: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Every_provider_on_one_database_shares_one_migration_of_it_and_every_storage_takes_the_protocol_json_serializer()
    {
        using var host = BuildSilo(silo => silo.UseFederationPostgres(o =>
        {
            o.ConnectionString = ConnectionString;
            o.GrainStorageNames.Add("ledger");
        }));

        var participants = host.Services.GetServices<ILifecycleParticipant<ISiloLifecycle>>().OfType<PostgresSchemaMigration>();
        Assert.Single(participants);
        var migration = host.Services.GetRequiredService<IOptions<PostgresSchemaMigrationOptions>>().Value;
        Assert.Equal([ConnectionString], migration.ConnectionStrings.Distinct());
        Assert.Equal(ServiceLifecycleStage.RuntimeInitialize, migration.Stage);
        Assert.IsType<PostgresGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("ledger"));
        Assert.IsType<PostgresGrainStorage>(host.Services.GetRequiredService<IGrainStorage>());
        var options = host.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>();
        Assert.All(new[] { "Default", "ledger" }, name => Assert.Same(ProtocolJsonGrainStorageSerializer.Instance, options.Get(name).GrainStorageSerializer));
        Assert.IsType<AdoNetClusteringTable>(host.Services.GetRequiredService<IMembershipTable>());
        // Orleans.Runtime.ReminderService.AdoNetReminderTable is internal.
        Assert.Equal("AdoNetReminderTable", host.Services.GetRequiredService<IReminderTable>().GetType().Name);
    }

    [Fact]
    public void Every_provider_is_given_the_npgsql_invariant_and_the_connection_string_and_orleans_own_validators_accept_them()
    {
        using var host = BuildSilo(silo => silo.UseFederationPostgres(o =>
        {
            o.ConnectionString = ConnectionString;
            o.GrainStorageNames.Add("ledger");
        }));
        var services = host.Services;

        var storage = services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>();
        var settings = new (string Invariant, string? ConnectionString)[]
        {
            (services.GetRequiredService<IOptions<AdoNetClusteringSiloOptions>>().Value.Invariant, services.GetRequiredService<IOptions<AdoNetClusteringSiloOptions>>().Value.ConnectionString),
            (services.GetRequiredService<IOptions<AdoNetReminderTableOptions>>().Value.Invariant, services.GetRequiredService<IOptions<AdoNetReminderTableOptions>>().Value.ConnectionString),
            (storage.Get("Default").Invariant, storage.Get("Default").ConnectionString),
            (storage.Get("ledger").Invariant, storage.Get("ledger").ConnectionString),
        };
        Assert.All(settings, s => Assert.Equal(("Npgsql", (string?)ConnectionString), s));

        // The checks Orleans itself runs when the silo starts (invariant and connection string present, a hash picker).
        var adoNet = services.GetServices<IConfigurationValidator>().Where(v => v.GetType().Assembly.GetName().Name!.Contains("AdoNet")).ToList();
        Assert.Equal(4, adoNet.Count);
        Assert.All(adoNet, v => v.ValidateConfiguration());
    }

    [Fact]
    public void A_client_finds_gateways_through_the_ado_net_list_on_npgsql()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleansClient(client => client.UseFederationPostgresClustering(ConnectionString));
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<AdoNetClusteringClientOptions>>().Value;
        Assert.Equal(("Npgsql", ConnectionString), (options.Invariant, options.ConnectionString));
        Assert.IsType<global::Orleans.Runtime.Membership.AdoNetGatewayListProvider>(host.Services.GetRequiredService<global::Orleans.Messaging.IGatewayListProvider>());
        Assert.Empty(host.Services.GetServices<ILifecycleParticipant<ISiloLifecycle>>().OfType<PostgresSchemaMigration>());
    }

    [Fact]
    public void With_nothing_selected_only_the_migration_is_registered()
    {
        // Membership from elsewhere: a silo has to have some.
        using var host = BuildSilo(silo => silo.UseLocalhostClustering().UseFederationPostgres(o =>
        {
            o.ConnectionString = ConnectionString;
            o.Clustering = false;
            o.Reminders = false;
            o.GrainStorageNames.Clear();
        }));

        Assert.IsNotType<AdoNetClusteringTable>(host.Services.GetService<IMembershipTable>());
        Assert.Null(host.Services.GetService<IReminderTable>());
        Assert.Null(host.Services.GetService<IGrainStorage>());
        Assert.Single(host.Services.GetServices<ILifecycleParticipant<ISiloLifecycle>>().OfType<PostgresSchemaMigration>());
    }

    [Fact]
    public void Two_databases_are_both_migrated_and_a_database_named_twice_once_at_the_earliest_stage_asked_for()
    {
        var early = ServiceLifecycleStage.RuntimeInitialize - 100;
        using var host = BuildSilo(silo => silo
            .UseFederationPostgres(ConnectionString)
            .AddFederationPostgresSchema(ConnectionString, early)
            .AddFederationPostgresGrainStorage("archive", OtherConnectionString));

        var migration = host.Services.GetRequiredService<IOptions<PostgresSchemaMigrationOptions>>().Value;
        Assert.Equal([ConnectionString, OtherConnectionString], migration.ConnectionStrings.Distinct());
        Assert.Equal(early, migration.Stage);
        Assert.Single(host.Services.GetServices<ILifecycleParticipant<ISiloLifecycle>>().OfType<PostgresSchemaMigration>());
    }

    private static IHost BuildSilo(Action<ISiloBuilder> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("options", "options"));
            configure(silo);
        });
        return builder.Build();
    }
}

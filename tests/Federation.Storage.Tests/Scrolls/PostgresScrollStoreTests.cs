using Federation.Storage.Postgres;
using Federation.Storage.Scrolls;
using Npgsql;

namespace Federation.Storage.Tests.Scrolls;

public sealed class PostgresScrollStoreTests : ScrollStoreContractTests
{
    protected override async Task<ScrollStoreOptions> CreateOptionsAsync() =>
        new() { Kind = "postgres", ConnectionString = await PostgresCluster.Instance.CreateDatabaseAsync("scrolls") };

    protected override async Task<IReadOnlyList<string>> QuarantinedLinesAsync(TruncateReport report)
    {
        Assert.StartsWith("scroll_quarantine truncation_id=", report.QuarantinedTo);
        var id = long.Parse(report.QuarantinedTo!["scroll_quarantine truncation_id=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var lines = new List<string>();
        await using var connection = new NpgsqlConnection(Options.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT line FROM scroll_quarantine WHERE truncation_id = @id ORDER BY seq", connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(Text(reader.GetFieldValue<byte[]>(0)));
        }

        return lines;
    }

    [Fact]
    public async Task Three_store_instances_appending_concurrently_never_repeat_or_skip_a_seq_and_each_observer_sees_every_line_in_order()
    {
        const int PerInstance = 400;
        var instances = new List<(IScrollStore Store, RecordingObserver Observer)>();
        for (var i = 0; i < 3; i++)
        {
            instances.Add(await OpenAsync());
        }

        var appends = instances.SelectMany((instance, n) => Enumerable.Range(0, PerInstance)
            .Select(i => Task.Run(() => instance.Store.AppendAsync(Scroll, [Receipt($"p{n}-{i}")])))).ToList();
        var seqs = await Task.WhenAll(appends);

        const int Total = 3 * PerInstance;
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (long)i), seqs.Order());
        var stored = await ReadAllAsync(instances[0].Store);
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (long)i), stored.Select(l => l.Seq));
        Assert.Equal(Total, stored.Select(l => Text(l.Line)).Distinct().Count());
        foreach (var line in stored)
        {
            Assert.StartsWith($"{{\"seq\":{line.Seq},", Text(line.Line));
        }

        foreach (var (store, observer) in instances)
        {
            await store.SyncAsync(Scroll);
            Assert.Empty(observer.Violations);
            Assert.Equal(stored.Select(l => Text(l.Line)), observer.Lines.Select(Text));
        }
    }

    [Fact]
    public async Task SyncAsync_delivers_lines_another_instance_committed()
    {
        var (writer, _) = await OpenAsync();
        var (reader, observer) = await OpenAsync();
        await writer.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        Assert.Empty(observer.Lines);

        await reader.SyncAsync(Scroll);
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b")], observer.Lines.Select(Text));
        await reader.SyncAsync(Scroll);
        Assert.Equal(2, observer.Lines.Count);

        // An own append first delivers what others committed before it.
        await writer.AppendAsync(Scroll, [Receipt("c")]);
        Assert.Equal(3, await reader.AppendAsync(Scroll, [Receipt("d")]));
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b"), ReceiptText(2, "c"), ReceiptText(3, "d")], observer.Lines.Select(Text));
        Assert.Empty(observer.Violations);
    }

    [Fact]
    public async Task Two_processes_creating_the_schema_at_once_both_succeed_and_record_one_version()
    {
        var first = NewStore();
        var second = NewStore();
        await Task.WhenAll(first.OpenAsync("a", (_, _) => { }), second.OpenAsync("b", (_, _) => { }));

        await using var connection = new NpgsqlConnection(Options.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version FROM fed_schema_version WHERE component = 'scrolls'", connection);
        Assert.Equal(PostgresScrollSchema.CurrentVersion, (int)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_database_with_a_newer_schema_is_refused()
    {
        var store = NewStore();
        await store.OpenAsync(Scroll, (_, _) => { });
        await using (var connection = new NpgsqlConnection(Options.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("UPDATE fed_schema_version SET version = 99 WHERE component = 'scrolls'", connection);
            await command.ExecuteNonQueryAsync();
        }

        var ex = await Assert.ThrowsAsync<PostgresSchemaTooNewException>(() => NewStore().OpenAsync(Scroll, (_, _) => { }));
        Assert.Contains("version 99", ex.Message);
        Assert.Equal((PostgresScrollSchema.Component, 99, PostgresScrollSchema.CurrentVersion), (ex.Component, ex.DatabaseVersion, ex.KnownVersion));
    }

    [Fact]
    public async Task After_another_instance_truncates_the_scroll_this_instance_refuses_to_append_until_reopened()
    {
        var (first, _) = await OpenAsync();
        var (second, _) = await OpenAsync();
        await first.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        await second.SyncAsync(Scroll);
        await first.TruncateAsync(Scroll, 1);

        var ex = await Assert.ThrowsAsync<ScrollFailedException>(() => second.AppendAsync(Scroll, [Receipt("stale view")]));
        Assert.Contains("truncated by another store instance", ex.Message);
        Assert.Equal(1, await first.AppendAsync(Scroll, [Receipt("b2")]));

        var (third, observer) = await OpenAsync();
        Assert.Equal([ReceiptText(0, "a"), ReceiptText(1, "b2")], observer.Lines.Select(Text));
        Assert.Equal(2, await third.AppendAsync(Scroll, [Receipt("c")]));
    }

    [Fact]
    public async Task Lines_are_rows_of_scroll_lines_and_the_head_holds_the_size()
    {
        var (store, _) = await OpenAsync();
        await store.AppendAsync(Scroll, [Receipt("a"), Receipt("b")]);
        await using var connection = new NpgsqlConnection(Options.ConnectionString);
        await connection.OpenAsync();
        await using var head = new NpgsqlCommand("SELECT size FROM scroll_heads WHERE scroll = @s", connection);
        head.Parameters.AddWithValue("s", Scroll);
        Assert.Equal(2L, await head.ExecuteScalarAsync());
        await using var line = new NpgsqlCommand("SELECT convert_from(line, 'UTF8') FROM scroll_lines WHERE scroll = @s AND seq = 1", connection);
        line.Parameters.AddWithValue("s", Scroll);
        Assert.Equal(ReceiptText(1, "b"), await line.ExecuteScalarAsync());
    }
}

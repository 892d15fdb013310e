using System.Text;
using Federation.Core.Canonical;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using Orleans.Storage;

namespace Federation.Storage.Orleans.Tests.Serialization;

public sealed class ProtocolJsonGrainStorageSerializerTests
{
    private static readonly IGrainStorageSerializer Serializer = ProtocolJsonGrainStorageSerializer.Instance;

    public enum Standing
    {
        Active,
        OnProbation,
    }

    public sealed class SampleState
    {
        public string NodeName { get; set; } = "";

        public Standing Standing { get; set; }

        public string? Note { get; set; }

        public List<int> Epochs { get; set; } = [];
    }

    [Fact]
    public void A_state_is_written_with_the_protocol_settings_snake_case_names_enum_names_nulls_omitted_and_no_type_names()
    {
        var json = Serializer.Serialize(new SampleState { NodeName = "n1", Standing = Standing.OnProbation, Epochs = [1, 2] }).ToString();

        Assert.Equal("{\"node_name\":\"n1\",\"standing\":\"on_probation\",\"epochs\":[1,2]}", json);
        Assert.DoesNotContain("$type", json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_reads_back_as_written()
    {
        var written = new SampleState { NodeName = "n1", Standing = Standing.OnProbation, Note = "late", Epochs = [3] };

        var read = Serializer.Deserialize<SampleState>(Serializer.Serialize(written));

        Assert.NotNull(read);
        Assert.Equal(written.NodeName, read.NodeName);
        Assert.Equal(written.Standing, read.Standing);
        Assert.Equal(written.Note, read.Note);
        Assert.Equal(written.Epochs, read.Epochs);
    }

    [Fact]
    public void It_uses_the_project_protocol_settings() =>
        Assert.Same(ProtocolJson.Options, ProtocolJsonGrainStorageSerializer.Instance.Options);

    [Theory]
    [InlineData("{\"node_name\":\"n1\",\"colour\":\"red\"}", "colour")]
    [InlineData("{\"node_name\":\"n1\",\"standing\":2}", "standing")]
    [InlineData("{\"node_name\":", "SampleState")]
    [InlineData("null", "JSON null")]
    public void A_payload_that_is_not_a_valid_state_is_refused_saying_what_is_wrong(string json, string fault)
    {
        var error = Assert.Throws<GrainStateFormatException>(() => Serializer.Deserialize<SampleState>(new BinaryData(Encoding.UTF8.GetBytes(json))));

        Assert.Contains(fault, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseProtocolJsonGrainStorageSerializer_replaces_orleans_default_storage_serializer_for_the_silo()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo => silo.UseLocalhostClustering().UseProtocolJsonGrainStorageSerializer());
        using var host = builder.Build();

        Assert.Same(ProtocolJsonGrainStorageSerializer.Instance, host.Services.GetRequiredService<IGrainStorageSerializer>());
    }
}

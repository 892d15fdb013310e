using System.Text;
using Federation.Core.Ingest;
using Federation.Core.Membership;

namespace Federation.Core.Tests.Ingest;

public class UpdatePayloadTests
{
    private static readonly FederationPolicy Policy = new("f", AggregationKind.Vector, ["ingest.v1"], 3);

    /// <summary>The tree-free vector reader answers only when the strict tree path accepts the same values.</summary>
    [Theory]
    [InlineData("""{"kind":"vector","values":[1,2.5,-3e-7]}""", true)]
    [InlineData("""{"values":[1,2,3],"kind":"vector"}""", true)]
    [InlineData(""" { "kind" : "vector" , "values" : [ 1 , 2 , 3 ] } """, true)]
    [InlineData("""{"k\u0069nd":"vector","values":[1,2,3]}""", true)]
    [InlineData("""{"kind":"vector","values":[1,2,3.0000000000000000001]}""", true)]
    [InlineData("""{"kind":"vector","values":[1,2,-0]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,-0.0e5]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,1e400]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,3,4]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,"3"]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,[3]]}""", false)]
    [InlineData("""{"kind":"vector","kind":"vector","values":[1,2,3]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,3],"values":[1,2,3]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,3],"extra":1}""", false)]
    [InlineData("""{"kind":"canon","values":[1,2,3]}""", false)]
    [InlineData("""{"values":[1,2,3]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,3]} x""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,3],}""", false)]
    [InlineData("""{"kind":"vector\ud800","values":[1,2,3]}""", false)]
    public void The_vector_fast_path_agrees_with_the_strict_tree(string json, bool fast)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var quick = UpdatePayload.TryDecodeVector(bytes, Policy);
        Assert.Equal(fast, quick is not null);
        UpdateDelta? tree;
        try
        {
            tree = UpdatePayload.DecodeTree(bytes, Policy);
        }
        catch (PayloadException)
        {
            tree = null;
        }

        if (quick is not null)
        {
            Assert.NotNull(tree);
            Assert.Equal(tree.Values, quick.Values);
        }
        else
        {
            Assert.Null(tree);
        }
    }

    [Fact]
    public void Encoded_vectors_decode_to_their_values()
    {
        var values = new[] { Math.PI, -1e-300, 123456789.125 };
        var compressed = UpdateDelta.Vector(values).Compress();
        Assert.Equal(values, UpdatePayload.Decode(compressed, Policy).Values);
    }
}

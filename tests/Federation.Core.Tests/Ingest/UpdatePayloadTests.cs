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
    [InlineData("""{"kind":"vector","values":[1,2,-0.000]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,2,-1e-400]}""", false)]
    [InlineData("""{"kind":"vector","values":[1,-2,-0.001]}""", true)]
    [InlineData("""{"kind":"vector","values":[1,2,1.7976931348623157e308]}""", true)]
    [InlineData("""{"kind":"vector","values":[1,2,1.8e308]}""", false)]
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

        // Ingest's check (values unread) says what the full decode says, of the same delta on the wire.
        var compressed = Deflate(bytes);
        if (tree is not null)
        {
            Assert.Equal(AggregationKind.Vector, UpdatePayload.Check(compressed, Policy));
        }
        else
        {
            var decodeError = Assert.Throws<PayloadException>(() => UpdatePayload.Decode(compressed, Policy));
            var checkError = Assert.Throws<PayloadException>(() => UpdatePayload.Check(compressed, Policy));
            Assert.Equal(decodeError.Code, checkError.Code);
            Assert.Equal(decodeError.Message, checkError.Message);
        }
    }

    [Theory]
    [InlineData(299, true)]
    [InlineData(308, true)]
    [InlineData(309, false)]
    [InlineData(320, false)]
    public void Long_numbers_are_finite_exactly_when_parsing_says_so(int digits, bool finite)
    {
        var big = "1" + new string('0', digits);
        foreach (var number in new[] { big, "-" + big, big + ".5" })
        {
            var compressed = Deflate(Encoding.UTF8.GetBytes($$"""{"kind":"vector","values":[1,2,{{number}}]}"""));
            if (finite)
            {
                Assert.Equal(AggregationKind.Vector, UpdatePayload.Check(compressed, Policy));
                Assert.Equal(double.Parse(number, System.Globalization.CultureInfo.InvariantCulture), UpdatePayload.Decode(compressed, Policy).Values![2]);
            }
            else
            {
                Assert.Equal(RefusalCode.MalformedPayload, Assert.Throws<PayloadException>(() => UpdatePayload.Check(compressed, Policy)).Code);
                Assert.Throws<PayloadException>(() => UpdatePayload.Decode(compressed, Policy));
            }
        }
    }

    [Fact]
    public void Check_names_a_canon_delta_by_its_kind()
    {
        var canon = UpdateDelta.Canon(new Dictionary<string, CanonEntry> { ["sig-1"] = new(3, 0.5, "p") }).Compress();
        Assert.Equal(AggregationKind.Canon, UpdatePayload.Check(canon, Policy));
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
        }

        return output.ToArray();
    }

    [Fact]
    public void Encoded_vectors_decode_to_their_values()
    {
        var values = new[] { Math.PI, -1e-300, 123456789.125 };
        var compressed = UpdateDelta.Vector(values).Compress();
        Assert.Equal(values, UpdatePayload.Decode(compressed, Policy).Values);
    }
}

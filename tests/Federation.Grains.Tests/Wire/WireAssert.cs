using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;
using Federation.Core.Signing;

namespace Federation.Grains.Tests.Wire;

/// <summary>
/// Field-by-field equality of wire values, whatever their collections are: records compare their list members by
/// reference, and a list that went through the wire comes back as another collection type (a collection expression's
/// compiler-made list becomes a plain one), so neither <c>Equals</c> nor the runtime types can decide.
/// </summary>
internal static class WireAssert
{
    public static void Same(object? expected, object? actual, string path = "value")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {Show(expected)}, got {Show(actual)}");
            return;
        }

        switch (expected)
        {
            case string or bool or char or Enum or decimal or double or float or DateTime or TimeSpan or Guid
                or byte or sbyte or short or ushort or int or uint or long or ulong:
                Assert.True(expected.GetType() == actual.GetType() && expected.Equals(actual), $"{path}: expected {Show(expected)}, got {Show(actual)}");
                return;
            case DateTimeOffset time:
                // Equals compares the instant only; the offset is part of the value too.
                Assert.True(actual is DateTimeOffset other && time.Ticks == other.Ticks && time.Offset == other.Offset, $"{path}: expected {time:O}, got {Show(actual)}");
                return;
            case byte[] bytes:
                Assert.True(actual is byte[] otherBytes && bytes.AsSpan().SequenceEqual(otherBytes), $"{path}: the bytes differ");
                return;
            case JsonNode node:
                Assert.True(actual is JsonNode otherNode && JsonNode.DeepEquals(node, otherNode), $"{path}: expected {node.ToJsonString()}, got {Show(actual)}");
                return;
            case SignedEnvelope envelope:
                // Its payload is handed out as a copy; what it is, is its bytes and its signature.
                var otherEnvelope = Assert.IsType<SignedEnvelope>(actual);
                Same(envelope.ToCanonicalJson(), otherEnvelope.ToCanonicalJson(), path + ".ToCanonicalJson()");
                Same(envelope.SignedBytes, otherEnvelope.SignedBytes, path + ".SignedBytes");
                Same(envelope.Signature, otherEnvelope.Signature, path + ".Signature");
                return;
        }

        if (DictionaryEntries(expected) is { } expectedEntries)
        {
            var actualEntries = DictionaryEntries(actual) ?? throw new Xunit.Sdk.XunitException($"{path}: expected a dictionary, got {actual.GetType()}");
            Assert.True(expectedEntries.Count == actualEntries.Count, $"{path}: expected {expectedEntries.Count} entries, got {actualEntries.Count}");
            foreach (var (key, value) in expectedEntries)
            {
                Assert.True(actualEntries.TryGetValue(key, out var actualValue), $"{path}: key {Show(key)} is missing");
                Same(value, actualValue, $"{path}[{Show(key)}]");
            }

            return;
        }

        if (expected is IEnumerable sequence)
        {
            var expectedItems = sequence.Cast<object?>().ToList();
            var actualItems = Assert.IsAssignableFrom<IEnumerable>(actual).Cast<object?>().ToList();
            Assert.True(expectedItems.Count == actualItems.Count, $"{path}: expected {expectedItems.Count} items, got {actualItems.Count}");
            for (var i = 0; i < expectedItems.Count; i++)
            {
                Same(expectedItems[i], actualItems[i], $"{path}[{i}]");
            }

            return;
        }

        Assert.True(expected.GetType() == actual.GetType(), $"{path}: expected a {expected.GetType()}, got a {actual.GetType()}");
        if (expected.GetType().IsValueType && expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Length == 0)
        {
            Assert.True(expected.Equals(actual), $"{path}: expected {Show(expected)}, got {Show(actual)}"); // a value such as a digest
            return;
        }

        foreach (var property in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0)
            {
                Same(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
            }
        }
    }

    private static Dictionary<object, object?>? DictionaryEntries(object value)
    {
        var dictionary = value.GetType().GetInterfaces()
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>));
        if (dictionary is null)
        {
            return null;
        }

        var pair = typeof(KeyValuePair<,>).MakeGenericType(dictionary.GetGenericArguments());
        var (key, item) = (pair.GetProperty("Key")!, pair.GetProperty("Value")!);
        return ((IEnumerable)value).Cast<object>().ToDictionary(p => key.GetValue(p)!, p => item.GetValue(p));
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        _ => $"{value} ({value.GetType().Name})",
    };
}

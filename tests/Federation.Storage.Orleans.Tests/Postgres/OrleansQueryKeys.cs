using System.Reflection;
using System.Text.RegularExpressions;
using Orleans.Configuration;
using Orleans.Storage;

namespace Federation.Storage.Orleans.Tests.Postgres;

/// <summary>
/// The <c>OrleansQuery</c> keys the Orleans 10.4.2 ADO.NET providers read, taken from their assemblies rather than
/// copied from a script: clustering and reminders check at start that every non-public instance property of
/// their internal <c>DbStoredQueries</c> names a present key (the property getters read <c>queries[nameof(…)]</c>);
/// optional keys (10.4.2's <c>CleanupDefunctSiloEntryKey</c>) are string literals read with
/// <c>GetValueOrDefault</c> in that class's methods, found here in their IL; grain storage names its keys in the
/// public constant <see cref="AdoNetGrainStorage.DefaultInitializationQuery"/>.
/// </summary>
public static partial class OrleansQueryKeys
{
    private const byte LdstrOpcode = 0x72;
    private const int UserStringTokenType = 0x70000000;

    public static Assembly Clustering => typeof(AdoNetClusteringSiloOptions).Assembly;

    public static Assembly Reminders => typeof(AdoNetReminderTableOptions).Assembly;

    public static Assembly Persistence => typeof(AdoNetGrainStorage).Assembly;

    /// <summary>Keys a provider refuses to start without.</summary>
    public static SortedSet<string> Required(Assembly assembly) =>
        new(StoredQueriesType(assembly).GetProperties(BindingFlags.Instance | BindingFlags.NonPublic).Select(p => p.Name), StringComparer.Ordinal);

    /// <summary>Every key the class's code names (required and optional).</summary>
    public static SortedSet<string> Named(Assembly assembly)
    {
        var type = StoredQueriesType(assembly);
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var method in type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
        {
            foreach (var literal in StringLiterals(method))
            {
                if (KeyName().IsMatch(literal))
                {
                    keys.Add(literal);
                }
            }
        }

        return keys;
    }

    /// <summary>The grain storage's keys; all but <c>DeleteStorageKey</c> (used with DeleteStateOnClear) required.</summary>
    public static SortedSet<string> GrainStorage() =>
        new(QuotedKey().Matches(AdoNetGrainStorage.DefaultInitializationQuery).Select(m => m.Groups[1].Value), StringComparer.Ordinal);

    /// <summary>Every key any of the three providers reads.</summary>
    public static SortedSet<string> All()
    {
        var all = new SortedSet<string>(StringComparer.Ordinal);
        all.UnionWith(Named(Clustering));
        all.UnionWith(Named(Reminders));
        all.UnionWith(GrainStorage());
        return all;
    }

    private static Type StoredQueriesType(Assembly assembly) =>
        assembly.GetTypes().SingleOrDefault(t => t.Name == "DbStoredQueries" && !t.IsNested)
        ?? throw new InvalidOperationException($"{assembly.GetName()} has no DbStoredQueries class: the provider's query contract moved, read the new one");

    /// <summary>The operands of <c>ldstr</c> in a method body (a byte that looks like the opcode but is not is skipped by its token type).</summary>
    private static IEnumerable<string> StringLiterals(MethodInfo method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        for (var i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] != LdstrOpcode)
            {
                continue;
            }

            var token = BitConverter.ToInt32(il, i + 1);
            if ((token & unchecked((int)0xFF000000)) != UserStringTokenType)
            {
                continue;
            }

            string? literal = null;
            try
            {
                literal = method.Module.ResolveString(token);
            }
            catch (ArgumentException)
            {
                // not a string token after all
            }

            if (literal is not null)
            {
                yield return literal;
            }
        }
    }

    [GeneratedRegex("^[A-Z][A-Za-z0-9]*Key$")]
    private static partial Regex KeyName();

    [GeneratedRegex("QueryKey = '([A-Za-z0-9]+)'")]
    private static partial Regex QuotedKey();
}

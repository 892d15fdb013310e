using System.Reflection;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Governance;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Scrolls;
using Federation.Grains.Wire;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Serialization;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Serializers;
using Orleans.Serialization.TypeSystem;

namespace Federation.Grains.Tests.Wire;

/// <summary>
/// Every type that crosses a grain boundary is an Orleans wire type, declared once with a stable name
/// (docs/formats/wire-types.md): it has a serializer and a copier, round-trips member for member, and its alias
/// follows <c>fed.&lt;kebab-name&gt;.v&lt;n&gt;</c>.
/// </summary>
public sealed partial class WireTypeTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    private Serializer Serializer => _services.GetRequiredService<Serializer>();

    private DeepCopier Copier => _services.GetRequiredService<DeepCopier>();

    public static TheoryData<string> WireTypeNames() => [.. WireTypeCatalog.WireTypes.Keys.Select(t => t.FullName!).Order(StringComparer.Ordinal)];

    private static Type Named(string fullName) => WireTypeCatalog.WireTypes.Keys.Single(t => t.FullName == fullName);

    private static string? AliasOf(Type type) =>
        type.GetCustomAttribute<AliasAttribute>()?.Alias ?? CoreWireTypeNames.Aliases.SingleOrDefault(a => a.Value == type).Key;

    [Fact]
    public void The_catalog_finds_the_grain_interfaces_and_what_they_exchange()
    {
        // A guard on the walk itself: if it found nothing, every test below would pass vacuously.
        Assert.Contains(typeof(IFederationGrain), WireTypeCatalog.GrainInterfaces);
        Assert.Contains(typeof(IAdvisoryIndexGrain), WireTypeCatalog.GrainInterfaces);
        foreach (var nested in new[] { typeof(NodeRecord), typeof(QuarantineEntry), typeof(KeyFingerprint), typeof(VerdictKind), typeof(EpochState) })
        {
            Assert.Contains(nested, WireTypeCatalog.WireTypes.Keys);
        }
    }

    [Theory]
    [MemberData(nameof(WireTypeNames))]
    public void Every_wire_type_has_a_serializer_and_a_copier(string wireType)
    {
        var type = Named(wireType);
        var where = WireTypeCatalog.WireTypes[type];
        Assert.True(Serializer.CanSerialize(type), $"{type} ({where}) has no Orleans serializer: declare it [GenerateSerializer] in the contracts, or give a Core type a surrogate (src/Federation.Grains.Contracts/Wire)");
        Assert.NotNull(_services.GetRequiredService<ICodecProvider>().TryGetDeepCopier(type));
    }

    [Theory]
    [MemberData(nameof(WireTypeNames))]
    public void Every_wire_type_is_declared_in_the_contracts_with_an_alias(string wireType)
    {
        // Declared, not merely serializable by some fallback: a contracts type carries [GenerateSerializer], a Core type
        // a registered surrogate; both a stable name.
        var type = Named(wireType);
        var declared = type.Assembly == WireTypeCatalog.Contracts
            ? type.IsDefined(typeof(GenerateSerializerAttribute))
            : type.IsEnum || WireTypeCatalog.Surrogates.ContainsKey(type);
        Assert.True(declared, $"{type} ({WireTypeCatalog.WireTypes[type]}) is not declared as a wire type");
        Assert.True(AliasOf(type) is not null, $"{type} has no wire alias ([Alias] in the contracts, CoreWireTypeNames for Core types)");
    }

    [Fact]
    public void A_type_nobody_declared_has_no_serializer()
    {
        // The check above has teeth: a plain record, as a new contract would be before it is declared.
        Assert.False(Serializer.CanSerialize(typeof(Undeclared)));
    }

    public sealed record Undeclared(string Name, int Count);

    [Fact]
    public void Every_serialized_member_has_an_id_and_the_ids_of_a_type_are_distinct()
    {
        foreach (var type in WireTypeCatalog.WireTypes.Keys.Where(t => !t.IsEnum))
        {
            var shape = WireTypeCatalog.Surrogates.GetValueOrDefault(type) ?? type;
            var ids = shape.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .Where(p => p.IsDefined(typeof(IdAttribute)))
                .Select(p => p.GetCustomAttribute<IdAttribute>()!.Id)
                .ToList();
            Assert.True(ids.Count > 0, $"{shape} has no [Id] member");
            Assert.Equal(ids.Count, ids.Distinct().Count());
            foreach (var state in StateOf(shape))
            {
                Assert.True(state.IsDefined(typeof(IdAttribute)), $"{shape}.{state.Name} is not serialized (no [Id])");
            }
        }
    }

    [Fact]
    public void A_core_records_surrogate_carries_every_member_of_it()
    {
        foreach (var (type, surrogate) in WireTypeCatalog.Surrogates)
        {
            var members = StateOf(type).Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
            if (members.Count == 0 || type == typeof(VerifiedUpdate))
            {
                continue; // a value (digest, fingerprint) or the update, carried as its signed message: their own tests
            }

            Assert.Equal(members, WireTypeCatalog.SerializedMembers(type).Select(m => m.Name).Order(StringComparer.Ordinal).ToList());
        }
    }

    [Fact]
    public void The_samples_cover_every_wire_type_every_member_and_every_null()
    {
        var samples = WireSamples.All().ToList();
        var nullability = new NullabilityInfoContext();
        foreach (var type in WireTypeCatalog.WireTypes.Keys.Where(t => !t.IsEnum))
        {
            var ofType = samples.Where(s => s.GetType() == type).ToList();
            Assert.True(ofType.Count > 0, $"no sample of {type}");
            foreach (var member in StateOf(type))
            {
                Assert.True(ofType.Any(s => IsSet(member.GetValue(s))), $"no sample of {type.Name} sets {member.Name}");
                var nullable = Nullable.GetUnderlyingType(member.PropertyType) is not null || nullability.Create(member).ReadState == NullabilityState.Nullable;
                Assert.True(!nullable || ofType.Any(s => member.GetValue(s) is null), $"no sample of {type.Name} leaves {member.Name} null");
            }
        }

        static bool IsSet(object? value) => value switch
        {
            null => false,
            string s => s.Length > 0,
            System.Collections.IEnumerable e and not JsonNode => e.Cast<object?>().Any(),
            _ => !value.GetType().IsValueType || !value.Equals(Activator.CreateInstance(value.GetType())),
        };
    }

    public static TheoryData<int> SampleIndexes() => [.. Enumerable.Range(0, WireSamples.All().Count())];

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Every_sample_round_trips_through_the_serializer(int index)
    {
        var sample = WireSamples.All().ElementAt(index);

        // As a declared type (a parameter, a member) and as an object (a list element: the alias is written and read).
        var typed = typeof(WireTypeTests).GetMethod(nameof(RoundTrip), BindingFlags.NonPublic | BindingFlags.Instance)!
            .MakeGenericMethod(sample.GetType()).Invoke(this, [sample]);
        WireAssert.Same(sample, typed, sample.GetType().Name);
        WireAssert.Same(sample, Serializer.Deserialize<object>(Serializer.SerializeToArray<object>(sample)), sample.GetType().Name);
    }

    private T RoundTrip<T>(T value) => Serializer.Deserialize<T>(Serializer.SerializeToArray(value))!;

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Every_sample_survives_the_deep_copier_and_immutable_ones_are_not_copied(int index)
    {
        var sample = WireSamples.All().ElementAt(index);
        var copy = Copier.Copy<object>(sample);
        WireAssert.Same(sample, copy, sample.GetType().Name);
        if (sample is ReceiptDraft draft)
        {
            // The one mutable wire type: its JSON body is the caller's tree, so the callee gets its own.
            Assert.NotSame(draft.Body, ((ReceiptDraft)copy).Body);
        }
        else if (!sample.GetType().IsValueType)
        {
            Assert.Same(sample, copy); // [Immutable] records and the Core types' shallow copiers: nothing is copied within a silo
        }
    }

    [Fact]
    public void A_verified_update_crosses_as_its_signed_message_and_arrives_whole()
    {
        var update = WireSamples.Update();
        var bytes = Serializer.SerializeToArray(update);

        // The message once (its payload is inside, in base64), not the parsed records beside it.
        Assert.InRange(bytes.Length, update.Envelope.ToCanonicalJson().Length, update.Envelope.ToCanonicalJson().Length + 64);
        var back = Serializer.Deserialize<VerifiedUpdate>(bytes);
        WireAssert.Same(update, back);
        Assert.Equal(update.Update, back!.Update);
    }

    [Fact]
    public void Lists_made_by_collection_expressions_cross_as_lists()
    {
        // What grains write: IReadOnlyList<T> x = [a, b] is a compiler-made type Orleans has no codec for by name.
        IReadOnlyList<NodeRegistration> registrations = [new(WireSamples.Update().Update.NodeFingerprint, default, default, ["ingest.v1"])];
        WireAssert.Same(registrations, RoundTrip(registrations));
        IReadOnlyList<KeyFingerprint> one = [WireSamples.Update().Update.NodeFingerprint];
        WireAssert.Same(one, RoundTrip(one));
        // Copied as a grain call copies an argument: by the copier of its declared type (Copy<T> would look up the runtime type).
        WireAssert.Same(one, Copier.GetCopier<IReadOnlyList<KeyFingerprint>>().Copy(one));
    }

    [GeneratedRegex("^fed\\.[a-z0-9]+(-[a-z0-9]+)*\\.v[1-9][0-9]*$")]
    private static partial Regex AliasScheme();

    [Fact]
    public void Aliases_are_unique_and_follow_the_scheme()
    {
        var aliases = WireTypeCatalog.Contracts.GetTypes()
            .Where(t => t.Namespace?.StartsWith("Federation.", StringComparison.Ordinal) == true) // not the generator's proxies and invokers
            .Select(t => t.GetCustomAttribute<AliasAttribute>()?.Alias)
            .OfType<string>()
            .Concat(CoreWireTypeNames.Aliases.Keys)
            .ToList();
        Assert.All(aliases, a => Assert.Matches(AliasScheme(), a));
        Assert.Equal(aliases.Count, aliases.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(WireTypeNames))]
    public void Orleans_writes_each_wire_type_by_its_alias(string wireType)
    {
        var type = Named(wireType);
        var names = _services.GetRequiredService<TypeConverter>();
        Assert.Equal(AliasOf(type), names.Format(type));
        Assert.Equal(type, names.Parse(AliasOf(type)!));
    }

    /// <summary>
    /// The names are part of the wire format: renaming one breaks silos of two versions talking to each other. Change
    /// this list only with a new alias (.v2) and the old one kept readable (docs/formats/wire-types.md).
    /// </summary>
    [Fact]
    public void The_wire_names_are_the_published_ones()
    {
        string[] published =
        [
            "fed.access-role.v1", "fed.access-token.v1", "fed.advisory-status.v1", "fed.advisory-transition.v1", "fed.advisory-view.v1", "fed.advisory.v1",
            "fed.aggregation-kind.v1", "fed.anchor-report.v1", "fed.anchor-status.v1", "fed.consistency-evidence.v1", "fed.disposition.v1", "fed.epoch-info.v1", "fed.epoch-inputs.v1",
            "fed.epoch-report.v1", "fed.epoch-state.v1", "fed.federation-policy.v1", "fed.governance-entry.v1",
            "fed.handshake-reply.v1", "fed.head-verdict.v1", "fed.heartbeat-ack.v1", "fed.inclusion-bundle.v1",
            "fed.key-fingerprint.v1", "fed.node-record.v1", "fed.node-registration.v1", "fed.node-status.v1",
            "fed.node-view.v1", "fed.quarantine-entry.v1", "fed.receipt-draft.v1", "fed.recorded-update.v1", "fed.review-case-detail.v1",
            "fed.review-case.v1", "fed.review-outcome.v1", "fed.scroll-head.v1", "fed.scroll-update.v1", "fed.sealed-receipt-view.v1",
            "fed.session-reply.v1", "fed.sha256-digest.v1", "fed.sync-policy.v1", "fed.trust-level.v1",
            "fed.update-ack.v1", "fed.update-seal.v1", "fed.update-sealing.v1", "fed.validator-step.v1", "fed.verdict-kind.v1", "fed.verified-update.v1",
        ];
        Assert.Equal(published, WireTypeCatalog.WireTypes.Keys.Select(t => AliasOf(t)!).Order(StringComparer.Ordinal));
    }

    /// <summary>Enums cross as their numbers: a member's number is part of the wire format (append, never renumber).</summary>
    [Fact]
    public void Wire_enums_keep_their_numbers_and_round_trip()
    {
        var expected = new Dictionary<Type, string>
        {
            [typeof(AccessRole)] = "Operator=0 Reviewer=1 Auditor=2",
            [typeof(AdvisoryStatus)] = "Published=0 Accepted=1 Declined=2",
            [typeof(AggregationKind)] = "Vector=0 Canon=1",
            [typeof(Disposition)] = "Accepted=0 Late=1 Duplicate=2 Refused=3",
            [typeof(EpochState)] = "Open=0 Closing=1 Proposing=2 Committed=3 Failed=4",
            [typeof(HeadVerdict)] = "Consistent=0 Ahead=1 Divergent=2",
            [typeof(NodeStatus)] = "Pending=0 Active=1 Quarantined=2 Excluded=3 Revoked=4 Departed=5",
            [typeof(SyncPolicy)] = "PullApprovedOnly=0 Bidirectional=1",
            [typeof(TrustLevel)] = "Federated=0 Root=1",
            [typeof(VerdictKind)] = "Approve=0 Reject=1",
        };
        var enums = WireTypeCatalog.WireTypes.Keys.Where(t => t.IsEnum).ToList();
        Assert.Equal(expected.Keys.OrderBy(t => t.Name), enums.OrderBy(t => t.Name));
        foreach (var type in enums)
        {
            Assert.Equal(expected[type], string.Join(' ', Enum.GetValues(type).Cast<object>().Select(v => $"{v}={Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)}")));
            foreach (var value in Enum.GetValues(type))
            {
                Assert.Equal(value, Serializer.Deserialize<object>(Serializer.SerializeToArray<object>(value)));
            }
        }
    }

    /// <summary>A record's state: the properties its widest public constructor sets (a positional record's members).</summary>
    private static IEnumerable<PropertyInfo> StateOf(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        var properties = constructor?.GetParameters().Select(p => type.GetProperty(p.Name!)).ToList();
        return properties is { Count: > 0 } && properties.All(p => p is not null) ? properties.OfType<PropertyInfo>() : [];
    }
}

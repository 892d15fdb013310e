using Federation.Core.Consensus;
using Federation.Storage.Keys;
using Microsoft.Extensions.Configuration;

namespace Federation.Grains.Services;

/// <summary>
/// Reads each federation's validators and epoch rules from appsettings.json:
/// <c>Federations:N:Validators</c> (<c>[{"Id","KeyFile"}]</c>, n = 3f + 1 ≥ 4),
/// <c>Federations:N:Strategy</c> (<c>multi_krum</c>, <c>trimmed_mean</c>, <c>median</c>), and <c>Epochs</c>
/// (<c>QuorumFraction</c>, <c>Grace</c>, <c>Deadline</c>, <c>ViewTimeout</c>, <c>MaxViewChanges</c>).
/// </summary>
public static class ValidatorsConfiguration
{
    public static (ValidatorDirectory Validators, EpochOptions Epochs) Load(IConfiguration configuration, string baseDirectory, FederationDirectory federations)
    {
        var epochs = configuration.GetSection("Epochs");
        var validators = new ValidatorDirectory
        {
            ViewTimeout = epochs.GetValue("ViewTimeout", ValidatorDirectory.DefaultViewTimeout),
            MaxViewChanges = epochs.GetValue("MaxViewChanges", ValidatorDirectory.DefaultMaxViewChanges),
        };
        foreach (var section in configuration.GetSection(FederationsConfiguration.SectionName).GetChildren())
        {
            var id = section["Id"] ?? throw new ArgumentException($"{section.Path}:Id is required");
            var members = new List<ValidatorSettings>();
            foreach (var validator in section.GetSection("Validators").GetChildren())
            {
                var name = validator["Id"] ?? throw new ArgumentException($"{validator.Path}:Id is required");
                var keyFile = Path.Combine(baseDirectory, validator["KeyFile"] ?? throw new ArgumentException($"{validator.Path}:KeyFile is required"));
                try
                {
                    members.Add(new ValidatorSettings(name, KeyFiles.ReadPrivateKey(keyFile)));
                }
                catch (Exception ex) when (ex is IOException or FormatException)
                {
                    throw new ArgumentException($"{validator.Path}:KeyFile: {ex.Message}", ex);
                }
            }

            if (members.Count == 0)
            {
                continue; // a federation without validators ingests but cannot close epochs
            }

            var kind = federations.Get(id).Policy.Aggregation;
            var basePolicy = kind == Core.Membership.AggregationKind.Vector ? AggregationPolicy.DefaultVector : AggregationPolicy.DefaultCanon;
            var strategy = (section["Strategy"] ?? "multi_krum").Replace("_", string.Empty, StringComparison.Ordinal);
            var policy = basePolicy with
            {
                Strategy = Enum.TryParse<VectorStrategy>(strategy, ignoreCase: true, out var parsed)
                    ? parsed
                    : throw new ArgumentException($"{section.Path}:Strategy must be multi_krum, trimmed_mean or median, got \"{section["Strategy"]}\""),
            };
            try
            {
                validators.Add(id, members, policy);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"{section.Path}:Validators: {ex.Message}", ex);
            }
        }

        var options = new EpochOptions
        {
            QuorumFraction = epochs.GetValue("QuorumFraction", EpochOptions.DefaultQuorumFraction),
            Grace = epochs.GetValue("Grace", EpochOptions.DefaultGrace),
            Deadline = epochs.GetValue("Deadline", EpochOptions.DefaultDeadline),
            CheckInterval = epochs.GetValue("CheckInterval", EpochOptions.DefaultCheckInterval),
        };
        return (validators, options.Validate());
    }
}

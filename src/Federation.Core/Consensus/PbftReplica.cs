using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Hashing;
using Federation.Core.Signing;

namespace Federation.Core.Consensus;

/// <summary>What one step of a replica produced: messages to send to every validator, evidence, and why inputs were refused.</summary>
public sealed class PbftOutput
{
    public List<SignedEnvelope> Broadcast { get; } = [];

    public List<VoteEquivocation> Evidence { get; } = [];

    public List<string> Refused { get; } = [];

    public bool CommittedNow { get; set; }
}

/// <summary>A prepared certificate: the accepted pre-prepare and 2f matching prepares of one view.</summary>
public sealed record PreparedCertificate(long View, Sha256Digest Digest, Vote PrePrepare, IReadOnlyList<Vote> Prepares)
{
    public JsonObject ToJson() => new()
    {
        ["view"] = View,
        ["digest"] = Digest.ToString(),
        ["pre_prepare"] = CanonicalJson.Parse(PrePrepare.Signed.ToCanonicalJson()),
        ["prepares"] = new JsonArray(Prepares.Select(p => CanonicalJson.Parse(p.Signed.ToCanonicalJson())).ToArray()),
    };
}

/// <summary>
/// One validator's PBFT state for one epoch (Castro and Liskov, 1999), as a pure state machine:
/// inputs are verified signed messages and timeouts, outputs are messages to broadcast. The primary of
/// view v is validator v mod n. Every replica recomputes the proposal itself (<see cref="SetLocalProposal"/>)
/// and prepares only a pre-prepare whose digest matches it. Prepared after the pre-prepare and 2f
/// matching prepares; committed after 2f + 1 matching commits. A timeout or a misbehaving primary starts
/// a view change carrying the replica's prepared certificate; the next primary's NEW-VIEW re-proposes the
/// digest of the highest prepared certificate among 2f + 1 view changes, so a value that may have
/// committed in an earlier view is the only one a later view can commit.
/// </summary>
public sealed class PbftReplica
{
    public const string ViewChangeType = "view_change";
    public const string NewViewType = "new_view";

    private readonly ValidatorSet _validators;
    private readonly ISigner _signer;
    private readonly Dictionary<(string Validator, long View, VotePhase Phase), Vote> _firstVotes = [];
    private readonly Dictionary<long, Vote> _acceptedPrePrepares = [];
    private readonly HashSet<(long View, VotePhase Phase)> _sent = [];
    private readonly Dictionary<long, Dictionary<string, (SignedEnvelope Message, PreparedCertificate? Prepared)>> _viewChanges = [];
    private readonly HashSet<long> _newViewsSent = [];
    private readonly HashSet<string> _evidenceFrom = new(StringComparer.Ordinal);
    private Sha256Digest? _localProposal;

    public PbftReplica(ValidatorSet validators, string self, ISigner signer, long epoch)
    {
        if (validators.KeyOf(self) is null)
        {
            throw new ArgumentException($"{self} is not a member of the validator set");
        }

        _validators = validators;
        Self = self;
        _signer = signer;
        Epoch = epoch;
    }

    public string Self { get; }

    public long Epoch { get; }

    public long View { get; private set; }

    /// <summary>True between sending VIEW-CHANGE and entering the new view.</summary>
    public bool ViewChanging { get; private set; }

    /// <summary>View changes this replica started; the caller doubles its timeout with each.</summary>
    public int ViewChangesStarted { get; private set; }

    public bool IsPrimary => !ViewChanging && _validators.PrimaryOf(View) == Self;

    public PreparedCertificate? Prepared { get; private set; }

    public Sha256Digest? CommittedDigest { get; private set; }

    public IReadOnlyList<SignedEnvelope> CommitCertificate { get; private set; } = [];

    /// <summary>The proposal digest this replica computed itself from the update scroll.</summary>
    public PbftOutput SetLocalProposal(Sha256Digest digest)
    {
        _localProposal = digest;
        var output = new PbftOutput();
        if (IsPrimary && !_acceptedPrePrepares.ContainsKey(View))
        {
            Send(output, Vote.Create(VotePhase.PrePrepare, Epoch, View, digest, Self, _signer));
        }
        else
        {
            Progress(output);
            TrySendNewView(output, View);
        }

        return output;
    }

    /// <summary>Handles a message from another validator (or a replay of one's own).</summary>
    public PbftOutput Receive(SignedEnvelope message)
    {
        var output = new PbftOutput();
        var type = message.Payload["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        try
        {
            switch (type)
            {
                case null:
                    HandleVote(output, Vote.Open(message, _validators));
                    break;
                case ViewChangeType:
                    HandleViewChange(output, message);
                    break;
                case NewViewType:
                    HandleNewView(output, message);
                    break;
                default:
                    output.Refused.Add($"unknown consensus message type \"{type}\"");
                    break;
            }
        }
        catch (FormatException ex)
        {
            output.Refused.Add(ex.Message);
        }

        return output;
    }

    /// <summary>The view timer expired without a commit: move to the next view.</summary>
    public PbftOutput OnTimeout()
    {
        var output = new PbftOutput();
        if (CommittedDigest is null)
        {
            StartViewChange(output, View + 1);
        }

        return output;
    }

    private void HandleVote(PbftOutput output, Vote vote)
    {
        if (vote.Epoch != Epoch)
        {
            output.Refused.Add($"a vote for epoch {vote.Epoch} reached the replica of epoch {Epoch}");
            return;
        }

        var key = (vote.Validator, vote.View, vote.Phase);
        if (_firstVotes.TryGetValue(key, out var first))
        {
            if (first.Digest != vote.Digest && _evidenceFrom.Add($"{vote.Validator}/{vote.View}/{vote.Phase}"))
            {
                output.Evidence.Add(new VoteEquivocation(first, vote));
            }

            return; // the first vote counts; a repeat is a duplicate
        }

        _firstVotes[key] = vote;
        if (vote.Phase == VotePhase.PrePrepare && vote.Validator != _validators.PrimaryOf(vote.View))
        {
            output.Refused.Add($"{vote.Validator} is not the primary of view {vote.View}; its pre-prepare is ignored");
            return;
        }

        Progress(output);
    }

    /// <summary>Accepts the current view's pre-prepare if it matches the local proposal, then prepares and commits as quorums form.</summary>
    private void Progress(PbftOutput output)
    {
        if (ViewChanging || CommittedDigest is not null)
        {
            return;
        }

        var primary = _validators.PrimaryOf(View);
        if (!_acceptedPrePrepares.ContainsKey(View) && _firstVotes.TryGetValue((primary, View, VotePhase.PrePrepare), out var prePrepare))
        {
            if (_localProposal is null)
            {
                return; // recompute first; the pre-prepare waits
            }

            if (prePrepare.Digest != _localProposal)
            {
                output.Refused.Add($"the primary {primary} proposed {prePrepare.Digest} in view {View}, but the recomputed proposal is {_localProposal}: view change");
                StartViewChange(output, View + 1);
                return;
            }

            _acceptedPrePrepares[View] = prePrepare;
            if (primary != Self)
            {
                Send(output, Vote.Create(VotePhase.Prepare, Epoch, View, prePrepare.Digest, Self, _signer));
            }
        }

        if (!_acceptedPrePrepares.TryGetValue(View, out var accepted))
        {
            return;
        }

        var digest = accepted.Digest;
        if (Prepared is null || Prepared.View != View)
        {
            var prepares = Matching(View, VotePhase.Prepare, digest).Where(v => v.Validator != primary).ToList();
            if (prepares.Count >= _validators.PrepareQuorum)
            {
                Prepared = new PreparedCertificate(View, digest, accepted, prepares.Take(_validators.PrepareQuorum).ToList());
                Send(output, Vote.Create(VotePhase.Commit, Epoch, View, digest, Self, _signer));
                return; // Send re-enters Progress with the own commit
            }
        }

        if (Prepared?.View == View)
        {
            var commits = Matching(View, VotePhase.Commit, digest);
            if (commits.Count >= _validators.CommitQuorum)
            {
                CommittedDigest = digest;
                CommitCertificate = commits.Take(_validators.CommitQuorum).Select(v => v.Signed).ToList();
                output.CommittedNow = true;
            }
        }
    }

    private List<Vote> Matching(long view, VotePhase phase, Sha256Digest digest) =>
        _validators.Ids.Select(id => _firstVotes.GetValueOrDefault((id, view, phase))).Where(v => v is not null && v.Digest == digest).Select(v => v!).ToList();

    /// <summary>Signs and records the replica's own vote, then sends it.</summary>
    private void Send(PbftOutput output, Vote vote)
    {
        if (!_sent.Add((vote.View, vote.Phase)))
        {
            return;
        }

        output.Broadcast.Add(vote.Signed);
        _firstVotes.TryAdd((vote.Validator, vote.View, vote.Phase), vote);
        Progress(output);
    }

    private void StartViewChange(PbftOutput output, long newView)
    {
        if (newView <= View && ViewChanging)
        {
            return;
        }

        View = newView;
        ViewChanging = true;
        ViewChangesStarted++;
        var payload = new JsonObject
        {
            ["type"] = ViewChangeType,
            ["epoch"] = Epoch,
            ["new_view"] = newView,
            ["validator"] = Self,
            ["prepared"] = Prepared?.ToJson(),
        };
        var message = SignedEnvelope.Sign(payload, _signer);
        output.Broadcast.Add(message);
        Record(newView, Self, message, Prepared);
        TrySendNewView(output, newView);
    }

    private void HandleViewChange(PbftOutput output, SignedEnvelope message)
    {
        var (validator, newView, prepared) = OpenViewChange(message);
        if (!Record(newView, validator, message, prepared))
        {
            return;
        }

        // Liveness: f + 1 validators asking for a later view means at least one honest one is; join them.
        var later = _viewChanges.Where(v => v.Key > View && v.Value.Count >= _validators.F + 1).Select(v => v.Key).Order().FirstOrDefault();
        if (later > View && CommittedDigest is null)
        {
            StartViewChange(output, later);
        }

        TrySendNewView(output, newView);
    }

    private bool Record(long newView, string validator, SignedEnvelope message, PreparedCertificate? prepared)
    {
        if (!_viewChanges.TryGetValue(newView, out var byValidator))
        {
            _viewChanges[newView] = byValidator = new Dictionary<string, (SignedEnvelope, PreparedCertificate?)>(StringComparer.Ordinal);
        }

        return byValidator.TryAdd(validator, (message, prepared));
    }

    /// <summary>The primary of a new view announces it once 2f + 1 view changes are in.</summary>
    private void TrySendNewView(PbftOutput output, long newView)
    {
        if (_validators.PrimaryOf(newView) != Self || newView != View || !ViewChanging || _newViewsSent.Contains(newView)
            || !_viewChanges.TryGetValue(newView, out var byValidator) || byValidator.Count < _validators.CommitQuorum)
        {
            return;
        }

        var quorum = byValidator.OrderBy(v => v.Key, StringComparer.Ordinal).Take(_validators.CommitQuorum).ToList();
        var digest = ChooseDigest(quorum.Select(q => q.Value.Prepared)) ?? _localProposal;
        if (digest is null)
        {
            return; // no prepared value to carry and no own proposal yet: wait for SetLocalProposal
        }

        _newViewsSent.Add(newView);
        var prePrepare = Vote.Create(VotePhase.PrePrepare, Epoch, newView, digest.Value, Self, _signer);
        var payload = new JsonObject
        {
            ["type"] = NewViewType,
            ["epoch"] = Epoch,
            ["view"] = newView,
            ["validator"] = Self,
            ["view_changes"] = new JsonArray(quorum.Select(q => CanonicalJson.Parse(q.Value.Message.ToCanonicalJson())).ToArray()),
            ["pre_prepare"] = CanonicalJson.Parse(prePrepare.Signed.ToCanonicalJson()),
        };
        output.Broadcast.Add(SignedEnvelope.Sign(payload, _signer));
        EnterView(output, newView, prePrepare, carried: ChooseDigest(quorum.Select(q => q.Value.Prepared)) is not null);
    }

    private static Sha256Digest? ChooseDigest(IEnumerable<PreparedCertificate?> certificates) =>
        certificates.Where(c => c is not null).OrderByDescending(c => c!.View).FirstOrDefault()?.Digest;

    private void HandleNewView(PbftOutput output, SignedEnvelope message)
    {
        var p = message.Payload;
        var view = Vote.Integer(p, "view");
        var sender = (p["validator"] as JsonValue)?.GetValue<string>() ?? throw new FormatException("new-view validator missing");
        if (Vote.Integer(p, "epoch") != Epoch)
        {
            throw new FormatException("a new-view for another epoch");
        }

        if (sender != _validators.PrimaryOf(view))
        {
            throw new FormatException($"{sender} is not the primary of view {view}; its new-view is ignored");
        }

        var key = _validators.KeyOf(sender)!;
        if (!message.Verify(Ed25519Verifier.Trusting(key)).IsValid)
        {
            throw new FormatException($"the new-view of {sender} does not verify");
        }

        if (view < View || (view == View && !ViewChanging && _acceptedPrePrepares.ContainsKey(view)) || CommittedDigest is not null)
        {
            return; // stale or already in that view
        }

        var changes = (p["view_changes"] as JsonArray ?? throw new FormatException("new-view without view changes"))
            .Select(n => SignedEnvelope.Parse(CanonicalJson.Write(n)))
            .Select(OpenViewChange)
            .Where(v => v.NewView == view)
            .GroupBy(v => v.Validator).Select(g => g.First())
            .ToList();
        if (changes.Count < _validators.CommitQuorum)
        {
            throw new FormatException($"the new-view for view {view} carries {changes.Count} valid view changes, {_validators.CommitQuorum} needed");
        }

        var prePrepare = Vote.Open(SignedEnvelope.Parse(CanonicalJson.Write(p["pre_prepare"] ?? throw new FormatException("new-view without pre-prepare"))), _validators);
        if (prePrepare.Phase != VotePhase.PrePrepare || prePrepare.View != view || prePrepare.Epoch != Epoch || prePrepare.Validator != sender)
        {
            throw new FormatException("the new-view's pre-prepare is not the primary's for this view and epoch");
        }

        var carried = ChooseDigest(changes.Select(c => c.Prepared));
        if (carried is not null && prePrepare.Digest != carried)
        {
            throw new FormatException($"the new-view re-proposes {prePrepare.Digest}, but the highest prepared certificate is for {carried}");
        }

        if (carried is null && prePrepare.Digest != _localProposal)
        {
            if (_localProposal is null)
            {
                throw new FormatException("a new-view with a fresh proposal arrived before the proposal was recomputed");
            }

            output.Refused.Add($"the new-view of {sender} proposes {prePrepare.Digest}, the recomputed proposal is {_localProposal}: view change");
            View = view;
            StartViewChange(output, view + 1);
            return;
        }

        _firstVotes.TryAdd((sender, view, VotePhase.PrePrepare), prePrepare);
        EnterView(output, view, prePrepare, carried: carried is not null);
    }

    private void EnterView(PbftOutput output, long view, Vote prePrepare, bool carried)
    {
        View = view;
        ViewChanging = false;
        _firstVotes.TryAdd((prePrepare.Validator, view, VotePhase.PrePrepare), prePrepare);
        if (carried)
        {
            // A carried value was prepared by an honest replica: it is valid whatever this replica recomputed.
            _acceptedPrePrepares[view] = prePrepare;
            if (prePrepare.Validator != Self)
            {
                Send(output, Vote.Create(VotePhase.Prepare, Epoch, view, prePrepare.Digest, Self, _signer));
            }
        }

        Progress(output);
    }

    private (string Validator, long NewView, PreparedCertificate? Prepared) OpenViewChange(SignedEnvelope message)
    {
        var p = message.Payload;
        var validator = (p["validator"] as JsonValue)?.GetValue<string>() ?? throw new FormatException("view change without validator");
        var key = _validators.KeyOf(validator) ?? throw new FormatException($"\"{validator}\" is not a validator");
        if (!message.Verify(Ed25519Verifier.Trusting(key)).IsValid)
        {
            throw new FormatException($"the view change of {validator} does not verify");
        }

        if (Vote.Integer(p, "epoch") != Epoch)
        {
            throw new FormatException("a view change for another epoch");
        }

        var newView = Vote.Integer(p, "new_view");
        PreparedCertificate? prepared = null;
        if (p["prepared"] is JsonObject cert)
        {
            var prePrepare = Vote.Open(SignedEnvelope.Parse(CanonicalJson.Write(cert["pre_prepare"])), _validators);
            var prepares = (cert["prepares"] as JsonArray ?? throw new FormatException("prepared certificate without prepares"))
                .Select(n => Vote.Open(SignedEnvelope.Parse(CanonicalJson.Write(n)), _validators)).ToList();
            var view = prePrepare.View;
            var primary = _validators.PrimaryOf(view);
            var distinct = prepares.Where(v => v.Phase == VotePhase.Prepare && v.View == view && v.Digest == prePrepare.Digest && v.Epoch == Epoch && v.Validator != primary)
                .Select(v => v.Validator).Distinct().Count();
            if (prePrepare.Phase != VotePhase.PrePrepare || prePrepare.Validator != primary || prePrepare.Epoch != Epoch || view >= newView || distinct < _validators.PrepareQuorum)
            {
                throw new FormatException($"the view change of {validator} carries an invalid prepared certificate");
            }

            prepared = new PreparedCertificate(view, prePrepare.Digest, prePrepare, prepares);
        }

        return (validator, newView, prepared);
    }
}

namespace Federation.Core.Signing;

/// <summary>
/// Produces a signature over canonical bytes. Implementations: <see cref="Ed25519Signer"/> and
/// <see cref="HmacSha256Signer"/>; a KMS-backed signer implements the same interface.
/// </summary>
public interface ISigner
{
    string Algorithm { get; }

    SignatureBlock Sign(ReadOnlySpan<byte> canonicalPayload);
}

/// <summary>Checks a signature over canonical bytes and says why it failed.</summary>
public interface ISignatureVerifier
{
    SignatureCheck Verify(ReadOnlySpan<byte> canonicalPayload, SignatureBlock signature);
}

public enum SignatureFailure
{
    None,
    WrongAlgorithm,
    UnknownKey,
    BadSignature,
}

/// <summary>The outcome of one signature check, with a message fit for a verification log.</summary>
public readonly record struct SignatureCheck(SignatureFailure Failure, string Detail)
{
    public bool IsValid => Failure == SignatureFailure.None;

    public static SignatureCheck Valid(string detail) => new(SignatureFailure.None, detail);
}

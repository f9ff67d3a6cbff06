using System.Buffers.Binary;
using System.Text;
using Chat.Core.Domain;

namespace Chat.Backplane.Redis;

internal enum EnvelopeKind : byte
{
    Deliver = 1,
    CloseDevice = 2,
    Presence = 3,
    InvalidateChat = 4,
    UserMoved = 5,
}

/// <summary>
/// What travels between nodes: a kind, the origin node, a few strings (user ids, chat id, excluded device), a number
/// (seq or close code), then the frame bytes exactly as they go on the socket — already serialized by the sender,
/// so the receiving node never parses or re-encodes JSON. Ids travel as their strings; a missing chat or device id
/// (null) is length -1, distinct from an empty one.
/// </summary>
internal readonly struct Envelope
{
    public required EnvelopeKind Kind { get; init; }
    public required string Origin { get; init; }
    public IReadOnlyList<UserId> Users { get; init; }
    public ChatId? ChatId { get; init; }
    public DeviceId? DeviceId { get; init; }
    public long Number { get; init; }
    public ReadOnlyMemory<byte> Frame { get; init; }

    public Envelope()
    {
        Users = [];
    }

    public byte[] Encode()
    {
        string? chatId = ChatId?.Value, deviceId = DeviceId?.Value;
        int size = 1 + Len(Origin) + 4 + Len(chatId) + Len(deviceId) + 8 + 4 + Frame.Length;
        foreach (var u in Users) size += Len(u.Value);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        int at = 0;
        span[at++] = (byte)Kind;
        at += Write(span[at..], Origin);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Users.Count);
        at += 4;
        foreach (var u in Users) at += Write(span[at..], u.Value);
        at += Write(span[at..], chatId);
        at += Write(span[at..], deviceId);
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], Number);
        at += 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Frame.Length);
        at += 4;
        Frame.Span.CopyTo(span[at..]);
        return buffer;
    }

    /// <summary>Reads an envelope; a truncated or malformed one throws <see cref="FormatException"/> (the receiver drops it).</summary>
    public static Envelope Decode(byte[] buffer)
    {
        try
        {
            return DecodeUnchecked(buffer);
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw new FormatException("Bad envelope: truncated.", ex);
        }
    }

    private static Envelope DecodeUnchecked(byte[] buffer)
    {
        var span = new ReadOnlySpan<byte>(buffer);
        int at = 0;
        var kind = (EnvelopeKind)span[at++];
        string origin = Read(span, ref at) ?? "";
        int count = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        if (count < 0 || count > buffer.Length) throw new FormatException("Bad envelope.");
        var users = new UserId[count];
        for (int i = 0; i < count; i++) users[i] = new UserId(Read(span, ref at) ?? "");
        string? chatId = Read(span, ref at);
        string? deviceId = Read(span, ref at);
        long number = BinaryPrimitives.ReadInt64LittleEndian(span[at..]);
        at += 8;
        int frameLength = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        if (frameLength < 0 || frameLength > buffer.Length - at) throw new FormatException("Bad envelope.");
        return new Envelope
        {
            Kind = kind,
            Origin = origin,
            Users = users,
            Number = number,
            ChatId = chatId is null ? null : new ChatId(chatId),
            DeviceId = deviceId is null ? null : new DeviceId(deviceId),
            Frame = new ReadOnlyMemory<byte>(buffer, at, frameLength),
        };
    }

    // Strings: int32 byte length (-1 = null), then UTF-8.
    private static int Len(string? s) => 4 + (s is null ? 0 : Encoding.UTF8.GetByteCount(s));

    private static int Write(Span<byte> span, string? s)
    {
        if (s is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span, -1);
            return 4;
        }
        int n = Encoding.UTF8.GetBytes(s, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, n);
        return 4 + n;
    }

    private static string? Read(ReadOnlySpan<byte> span, ref int at)
    {
        int n = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        if (n < 0) return null;
        string s = Encoding.UTF8.GetString(span.Slice(at, n));
        at += n;
        return s;
    }
}

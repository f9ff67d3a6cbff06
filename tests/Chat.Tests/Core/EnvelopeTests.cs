using System.Text;
using Chat.Backplane.Redis;
using Chat.Core.Domain;

namespace Chat.Tests.Core;

/// <summary>The Redis backplane's wire format between nodes: every kind survives encode → decode unchanged.</summary>
public sealed class EnvelopeTests
{
    private static Envelope RoundTrip(Envelope e) => Envelope.Decode(e.Encode());

    [Fact]
    public void A_delivery_keeps_recipients_chat_seq_excluded_device_and_the_frame_bytes()
    {
        byte[] frame = Encoding.UTF8.GetBytes("{\"type\":\"new_message\",\"content\":\"héllo ✓ 👋\"}");
        var back = RoundTrip(new Envelope
        {
            Kind = EnvelopeKind.Deliver,
            Origin = "node-1",
            Users = [new UserId("u1"), new UserId("u2")],
            ChatId = new ChatId("u1_u2"),
            DeviceId = new DeviceId("d1"),
            Number = long.MaxValue,
            Frame = frame,
        });
        Assert.Equal(EnvelopeKind.Deliver, back.Kind);
        Assert.Equal("node-1", back.Origin);
        Assert.Equal([new UserId("u1"), new UserId("u2")], back.Users);
        Assert.Equal(new ChatId("u1_u2"), back.ChatId);
        Assert.Equal(new DeviceId("d1"), back.DeviceId);
        Assert.Equal(long.MaxValue, back.Number);
        Assert.Equal(frame, back.Frame.ToArray());
    }

    [Fact]
    public void A_non_message_event_has_no_chat_and_no_excluded_device()
    {
        var back = RoundTrip(new Envelope { Kind = EnvelopeKind.Deliver, Origin = "n", Users = [new UserId("u")], Frame = "{}"u8.ToArray() });
        Assert.Null(back.ChatId);      // null stays null: receivers tell a message from a receipt by it
        Assert.Null(back.DeviceId);
        Assert.Equal(0, back.Number);
    }

    [Fact]
    public void Empty_strings_stay_empty_and_differ_from_missing_ones()
    {
        var back = RoundTrip(new Envelope { Kind = EnvelopeKind.Deliver, Origin = "", Users = [new UserId("")], ChatId = new ChatId(""), DeviceId = new DeviceId("") });
        Assert.Equal("", back.Origin);
        Assert.Equal([new UserId("")], back.Users);
        Assert.Equal(new ChatId(""), back.ChatId);
        Assert.Equal(new DeviceId(""), back.DeviceId);
        Assert.Equal(0, back.Frame.Length);
    }

    [Fact]
    public void Close_presence_invalidate_and_moved_round_trip()
    {
        var close = RoundTrip(new Envelope { Kind = EnvelopeKind.CloseDevice, Origin = "n", Users = [new UserId("u")], DeviceId = new DeviceId("d"), Number = 4001 });
        Assert.Equal((EnvelopeKind.CloseDevice, new DeviceId("d"), 4001L), (close.Kind, close.DeviceId!.Value, close.Number));

        var presence = RoundTrip(new Envelope { Kind = EnvelopeKind.Presence, Origin = "n", Users = [new UserId("u")], Frame = "{\"type\":\"presence\"}"u8.ToArray() });
        Assert.Equal(EnvelopeKind.Presence, presence.Kind);
        Assert.Equal([new UserId("u")], presence.Users);
        Assert.Equal("{\"type\":\"presence\"}", Encoding.UTF8.GetString(presence.Frame.Span));

        var invalidate = RoundTrip(new Envelope { Kind = EnvelopeKind.InvalidateChat, Origin = "n", ChatId = new ChatId("group1") });
        Assert.Equal((EnvelopeKind.InvalidateChat, new ChatId("group1")), (invalidate.Kind, invalidate.ChatId!.Value));
        Assert.Empty(invalidate.Users);

        var moved = RoundTrip(new Envelope { Kind = EnvelopeKind.UserMoved, Origin = "n", Users = [new UserId("a"), new UserId("b"), new UserId("c")] });
        Assert.Equal(EnvelopeKind.UserMoved, moved.Kind);
        Assert.Equal(3, moved.Users.Count);
    }

    [Fact]
    public void Only_the_frames_own_bytes_are_sent_when_it_is_a_slice_of_a_bigger_buffer()
    {
        byte[] big = Encoding.UTF8.GetBytes("xxx{\"a\":1}yyy");
        var back = RoundTrip(new Envelope { Kind = EnvelopeKind.Presence, Origin = "n", Users = [new UserId("u")], Frame = big.AsMemory(3, 7) });
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(back.Frame.Span));
    }

    [Fact]
    public void Many_recipients_and_a_large_frame_round_trip()
    {
        var users = Enumerable.Range(0, 500).Select(i => new UserId($"user{i:D4}")).ToArray();
        byte[] frame = new byte[70_000];
        new Random(7).NextBytes(frame);
        var back = RoundTrip(new Envelope { Kind = EnvelopeKind.Deliver, Origin = "n", Users = users, ChatId = new ChatId("g"), Number = 1, Frame = frame });
        Assert.Equal(users, back.Users);
        Assert.Equal(frame, back.Frame.ToArray());
    }

    [Fact]
    public void A_truncated_or_corrupt_envelope_is_refused_with_a_format_error()
    {
        byte[] good = new Envelope
        {
            Kind = EnvelopeKind.Deliver,
            Origin = "node",
            Users = [new UserId("u1")],
            ChatId = new ChatId("c"),
            Number = 3,
            Frame = "{}"u8.ToArray(),
        }.Encode();
        for (int length = 0; length < good.Length; length++)
            Assert.Throws<FormatException>(() => Envelope.Decode(good[..length]));

        byte[] hugeCount = (byte[])good.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(hugeCount, 1 + 4 + 4); // kind, origin length + "node", then the user count
        Assert.Throws<FormatException>(() => Envelope.Decode(hugeCount));
    }
}

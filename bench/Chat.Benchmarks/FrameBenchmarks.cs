using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Chat.Protocol;

namespace Chat.Benchmarks;

/// <summary>
/// The JSON work of one message on the hot path: the gateway decodes the sender's <c>new_message</c> frame,
/// the committer encodes the ack for the sender and the <c>new_message</c> event once for all recipients.
/// </summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private static readonly string Content = new('x', 100);

    private readonly byte[] _clientFrame = Encoding.UTF8.GetBytes(
        $$"""{"type":"new_message","chat_id":"0193a0c4e2b87c6f9d1e2f3a4b5c6d7e_0193a0c4e2b87c6f9d1e2f3a4b5c6d7f","content":"{{Content}}","client_msg_id":"c-000123456"}""");

    private readonly MessageFrame _message = new(
        "0193a0c4-e2b8-7c6f-9d1e-2f3a4b5c6d80", "0193a0c4e2b87c6f9d1e2f3a4b5c6d7e_0193a0c4e2b87c6f9d1e2f3a4b5c6d7f", 123_456,
        "0193a0c4e2b87c6f9d1e2f3a4b5c6d7e", Content, 1_764_763_200_000, "c-000123456", null);

    private readonly AckFrame _ack = new(
        "c-000123456", "0193a0c4-e2b8-7c6f-9d1e-2f3a4b5c6d80", "0193a0c4e2b87c6f9d1e2f3a4b5c6d7e_0193a0c4e2b87c6f9d1e2f3a4b5c6d7f",
        123_456, 1_764_763_200_000);

    [Benchmark(Description = "decode new_message (ClientFrame)")]
    public ClientFrame? DecodeNewMessage() => JsonSerializer.Deserialize(_clientFrame, ChatJson.Default.ClientFrame);

    [Benchmark(Description = "encode new_message (MessageFrame)")]
    public byte[] EncodeMessage() => Frames.Encode(_message);

    [Benchmark(Description = "encode ack (AckFrame)")]
    public byte[] EncodeAck() => Frames.Encode(_ack);
}

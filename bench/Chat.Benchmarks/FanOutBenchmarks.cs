using BenchmarkDotNet.Attributes;
using Chat.Protocol;

namespace Chat.Benchmarks;

/// <summary>
/// One encoded <c>new_message</c> handed by the backplane to this node's <see cref="Chat.Core.Delivery.ConnectionHub"/>
/// and pushed to 500 live devices of a group: member lookup, each device's <see cref="Chat.Core.Delivery.DeliveryCursor"/>
/// (in-order check under its lock), and a write into each bounded queue; then each queue is read once, as the send
/// pumps do, so that the queues never fill. No JSON, no socket.
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    private const int Recipients = 500;

    private Fixtures.FanOutScene _scene = null!;
    private byte[] _frame = null!;
    private long _seq;

    [GlobalSetup]
    public void Setup()
    {
        _scene = Fixtures.GroupOnOneNode(Recipients, queueFrames: 4096); // the server's default Chat:Gateway:SendQueueFrames
        _frame = Frames.Encode(new MessageFrame(
            Guid.CreateVersion7().ToString(), "group", 1, "sender", new string('x', 100), 1_764_763_200_000, "c-1", null));
    }

    [Benchmark(Description = "fan-out new_message to 500 sinks")]
    public int FanOut()
    {
        _scene.Deliver(_frame, ++_seq);
        int drained = _scene.Drain();
        if (drained != Recipients) throw new InvalidOperationException($"{drained} frames delivered, {Recipients} expected.");
        return drained;
    }
}

using System.Net;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Chat.Tests.Files;

/// <summary>Runs alone (no other test allocating in this process meanwhile), because it measures the process.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialFileCollection
{
    public const string Name = "files-serial";
}

[Collection(SerialFileCollection.Name)]
public sealed class FileMemoryTests(ITestOutputHelper output)
{
    private const long FiftyMiB = 50L * 1024 * 1024;
    private const long Bound = 20L * 1024 * 1024;

    [Fact]
    public async Task A_50_MiB_upload_streams_through_without_growing_the_process()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, aliceAuth) = await server.NewUserAsync("alice");

        await UploadGeneratedAsync(server, alice, 1024 * 1024); // warm-up: JIT, pools, first file in the store
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetBefore = Environment.WorkingSet;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        // Sample the peak while the upload runs: a server that buffered the body would show it here even if the
        // buffer were garbage by the end.
        long peakManaged = managedBefore, peakWorkingSet = workingSetBefore;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(forceFullCollection: false));
                peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
                try
                {
                    await Task.Delay(10, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var ticket = await UploadGeneratedAsync(server, alice, FiftyMiB);
        await stop.CancelAsync();
        await sampler;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        output.WriteLine($"50 MiB upload: managed heap peak +{Mb(peakManaged - managedBefore)} MiB, working set peak +{Mb(peakWorkingSet - workingSetBefore)} MiB, " +
                         $"allocated {Mb(allocated)} MiB (client and server together, one process)");
        Assert.True(peakManaged - managedBefore < Bound, $"managed heap grew {Mb(peakManaged - managedBefore)} MiB");
        Assert.True(peakWorkingSet - workingSetBefore < Bound, $"working set grew {Mb(peakWorkingSet - workingSetBefore)} MiB");
        Assert.True(allocated < Bound, $"allocated {Mb(allocated)} MiB during the upload");

        // And the bytes arrived intact (checked while streaming the download, again without buffering it).
        using var req = new HttpRequestMessage(HttpMethod.Get, $"/api/files/{ticket.FileId}");
        req.Headers.Authorization = new("Bearer", aliceAuth.Token);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var res = await alice.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        await using var body = await res.Content.ReadAsStreamAsync(cts.Token);
        byte[] buffer = new byte[65536];
        long pos = 0;
        int n;
        while ((n = await body.ReadAsync(buffer, cts.Token)) > 0)
        {
            for (int i = 0; i < n; i++)
                if (buffer[i] != GeneratedStream.ByteAt(pos + i)) Assert.Fail($"byte {pos + i} differs");
            pos += n;
        }
        Assert.Equal(FiftyMiB, pos);
    }

    private static async Task<UploadUrlResponse> UploadGeneratedAsync(TestServer server, Chat.Client.ChatApi api, long size)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ticket = await api.UploadUrlAsync("big.bin", "application/octet-stream", size, cts.Token);
        using var content = new StreamContent(new GeneratedStream(size), 65536);
        content.Headers.ContentLength = size;
        using var req = new HttpRequestMessage(HttpMethod.Put, ticket.UploadUrl) { Content = content };
        using var res = await server.Api().Http.SendAsync(req, cts.Token);
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        return ticket;
    }

    private static long Mb(long bytes) => bytes / (1024 * 1024);

    /// <summary>Deterministic bytes computed from their position: nothing is held in memory, and they can be checked on the way back.</summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        private long _pos;

        public static byte ByteAt(long i) => (byte)((i * 2654435761L) >> 13 ^ i);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _pos; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _pos);
            for (int i = 0; i < n; i++) buffer[i] = ByteAt(_pos + i);
            _pos += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

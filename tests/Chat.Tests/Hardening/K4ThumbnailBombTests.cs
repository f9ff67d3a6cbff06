using System.Net;
using System.Text.Json;
using Chat.Tests.Files;
using Chat.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17, decompression bombs: four small PNGs declaring 6000×6000 took a node from 180 to 705 MiB while their
/// thumbnails were made. The header is read first; an image that would decode more than Chat:Files:MaxThumbnailPixels
/// is stored without a thumbnail and never decoded. Measures the process, so it runs alone (as FileMemoryTests).
/// </summary>
[Collection(SerialFileCollection.Name)]
public sealed class K4ThumbnailBombTests(ITestOutputHelper output)
{
    private const long Bound = 64L * 1024 * 1024; // one decoded 20000×20000 RGBA canvas would be 1.6 GB

    [Fact]
    public async Task Tiny_pngs_declaring_huge_canvases_are_stored_without_thumbnail_and_the_process_does_not_grow()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        byte[] bomb = FileKit.HugePngHeader(20_000, 20_000); // 400 megapixels declared in ~4 KiB, IHDR with a valid CRC
        byte[] attack = FileKit.HugePngHeader(6_000, 6_000); // the measured attack's shape: 36 megapixels
        Assert.True(bomb.Length < 8192);

        // Warm-up: JIT, pools, the codec's first load, and a real image that does get its thumbnail.
        var warm = await PutAsync(server, alice, "warm.png", FileKit.Png(400, 300));
        Assert.True(warm.GetProperty("has_thumbnail").GetBoolean());
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long workingSetBefore = Environment.WorkingSet;
        long peak = workingSetBefore;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Environment.WorkingSet);
                try
                {
                    await Task.Delay(5, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        // Four at once, as the attack did (twice the default thumbnail slots).
        var uploads = await Task.WhenAll(
            PutAsync(server, alice, "bomb1.png", bomb), PutAsync(server, alice, "bomb2.png", bomb),
            PutAsync(server, alice, "bomb3.png", attack), PutAsync(server, alice, "bomb4.png", attack));
        await stop.CancelAsync();
        await sampler;

        output.WriteLine($"4 bombs: working set peak +{(peak - workingSetBefore) / (1024 * 1024)} MiB");
        Assert.True(peak - workingSetBefore < Bound, $"working set grew {(peak - workingSetBefore) / (1024 * 1024)} MiB");
        foreach (var up in uploads)
        {
            Assert.False(up.GetProperty("has_thumbnail").GetBoolean());
            // Stored all the same: the uploader gets the bytes back, and there is no thumbnail to fetch.
            string id = up.GetProperty("file_id").GetString()!;
            using var file = await server.GetAsync($"/api/files/{id}", aliceAuth.Token);
            file.AssertStatus(HttpStatusCode.OK);
            Assert.True((await file.Content.ReadAsByteArrayAsync()).Length is 4096 + 33);
            using var thumb = await server.GetAsync($"/api/files/{id}/thumbnail", aliceAuth.Token);
            thumb.AssertStatus(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task The_pixel_limit_is_configurable()
    {
        // 100×100 = 10,000 pixels: over a limit of 5,000, within the default.
        await using (var strict = await TestServer.StartAsync(("Chat:Files:MaxThumbnailPixels", "5000")))
        {
            var (alice, _) = await strict.NewUserAsync("alice");
            Assert.False((await PutAsync(strict, alice, "small.png", FileKit.Png(100, 100))).GetProperty("has_thumbnail").GetBoolean());
            Assert.True((await PutAsync(strict, alice, "smaller.png", FileKit.Png(50, 50))).GetProperty("has_thumbnail").GetBoolean());
        }
        await using var server = await TestServer.StartAsync();
        var (bob, _) = await server.NewUserAsync("bob");
        Assert.True((await PutAsync(server, bob, "small.png", FileKit.Png(100, 100))).GetProperty("has_thumbnail").GetBoolean());
    }

    /// <summary>The upload PUT's 201 body: {file_id, file_name, type, size, has_thumbnail}.</summary>
    private static async Task<JsonElement> PutAsync(TestServer server, Chat.Client.ChatApi api, string name, byte[] data)
    {
        using var cts = new CancellationTokenSource(FileKit.Wait);
        var ticket = await api.UploadUrlAsync(name, "image/png", data.Length, cts.Token);
        using var res = await server.PutAsync(ticket.UploadUrl, data);
        res.AssertStatus(HttpStatusCode.Created);
        return JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}

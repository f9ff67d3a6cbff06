using System.Text.Json;
using Chat.Client;
using Microsoft.Extensions.Time.Testing;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// A fake clock for the in-process server: server time (presence grace, typing timeouts, idle sweeps) moves only when
/// the test moves it, so a test of "after N seconds" neither waits N real seconds nor depends on the machine's speed.
/// </summary>
public static class FakeClock
{
    /// <summary>Starts at the real now, so timestamps the server hands out still look like today.</summary>
    public static FakeTimeProvider New() => new(DateTimeOffset.UtcNow);

    public static long NowMs(this FakeTimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Moves the clock in steps until a matching frame arrives and returns it. Between steps it waits briefly (real time)
    /// for what the last step woke on the server, so the frame arrives at the latest one step after the server's timer.
    /// </summary>
    /// <param name="eachStep">Runs before each step, e.g. a heartbeat that keeps another socket from going idle.</param>
    public static async Task<JsonElement> AdvanceUntilAsync(this FakeTimeProvider clock, ChatSocket socket, Func<JsonElement, bool> match,
        TimeSpan step, TimeSpan limit, Func<Task>? eachStep = null)
    {
        var moved = TimeSpan.Zero;
        while (true)
        {
            try
            {
                return await socket.NextAsync(match, TimeSpan.FromMilliseconds(60));
            }
            catch (TimeoutException) when (moved < limit)
            {
            }
            if (eachStep is not null) await eachStep();
            clock.Advance(step);
            moved += step;
        }
    }

    /// <summary>Moves the clock by <paramref name="total"/> in steps, letting the server run what each step woke.</summary>
    public static async Task AdvanceAsync(this FakeTimeProvider clock, TimeSpan total, TimeSpan step)
    {
        for (var moved = TimeSpan.Zero; moved < total; moved += step)
        {
            clock.Advance(step < total - moved ? step : total - moved);
            await Task.Delay(20);
        }
    }
}

using Chat.LoadTest;

const string Usage = """
chat-loadtest <scenario> [options]      (targets loopback only: 127.0.0.0/8, ::1, localhost)

Start the server for benches with the rate limits off:
  dotnet run -c Release --project src/Chat.Server -- --urls http://127.0.0.1:8080 \
      --Chat:RateLimit:MessagesPerMinute=0 --Chat:RateLimit:LoginsPerMinute=0 --Chat:RateLimit:RegistrationsPerMinute=0 --Chat:DataDir /tmp/benchdata

scenarios
  setup        register --users N into the users file (reused by every later run)
  direct       N users in pairs, open-loop at --rate R msg/s (aggregate) or --ramp a,b,c (each for --duration s)
  rich         N users in pairs each send one message, then edit_message and react/unreact it open-loop at --rate R
               ops/s (aggregate) or --ramp a,b,c; latency to the actor's own and to the other member's message_updated
  group        --groups G of --members S, --senders K per group, --rate R msg/s (aggregate over groups)
  connections  --users N idle authenticated sockets with heartbeats, held --duration s; server KiB per socket
  catchup      --users N devices offline while each gets --messages M, then all reconnect at once
  presence     --users N sockets, each subscribes to --subscriptions K others, then --reconnect-pct-per-min P churn
               for --duration s; server RSS per subscription, CPU of churn vs idle control, presence_update/s
  relay        run a bare WebSocket relay (no persistence) on --urls http://127.0.0.1:8090 (baseline / self-test)

common options
  --url URL               server base URL (default http://127.0.0.1:8080)
  --users-file PATH       users file (default <out>/<prefix>-<port>.users.json); --user-prefix lt; --user-offset K
  --register-parallel N   concurrent registrations in setup (default 4 × cores)
  --server-pid PID        server process to sample (default: whoever listens on the URL's port)
  --out DIR               result folder (default bench/Chat.LoadTest/results)
  --size BYTES            message content size (default 100)
  --connect-parallel N    concurrent socket opens (default 200); --source-ips K (127.0.0.1..K, default 1 per 20k sockets)
  --no-metrics            do not scrape the server's /metrics once a second (commit batch sizes etc.)
messaging options
  --rate R | --ramp a,b,c   --duration S (per step)   --warmup S (default 5)   --drain S (default 15)
  --stop-p99-ms X (ramp stops when a step's p99 exceeds X; default 1000)   --one-way (direct: one sender per pair)
rich options
  --ops edit,react (default: each sender cycles edit, react, unreact; "edit" or "react" alone)   --emoji E (default 👍)
catch-up options
  --messages M  --senders K  --window W (in-flight during fill)  --timeout S  --reconnect-parallel N
connections options
  --duration S (hold)  --sockets-per-user K  --settle S
presence options
  --subscriptions K (default 50)  --reconnect-pct-per-min P (default 10)  --duration S (churn, default 120)
  --settle S (control / subscribed idle, default 10)  --offline-ms MS (gap before reopening, default 0)  --seed N
""";

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return 0;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
try
{
    var opt = new Options(args);
    if (opt.Command == "relay")
    {
        await Relay.RunAsync(opt);
        return 0;
    }
    using var h = new Harness(opt, cts.Token);
    switch (opt.Command)
    {
        case "setup": await Scenarios.SetupAsync(h); break;
        case "direct": await Scenarios.DirectAsync(h); break;
        case "group": await Scenarios.GroupAsync(h); break;
        case "rich": await RichScenario.RunAsync(h); break;
        case "connections": await Scenarios.ConnectionsAsync(h); break;
        case "catchup": await Scenarios.CatchupAsync(h); break;
        case "presence": await Scenarios.PresenceAsync(h); break;
        default: throw new UsageException($"unknown scenario '{opt.Command}'");
    }
    return 0;
}
catch (UsageException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine();
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
catch (Exception e) when (e is InvalidOperationException or HttpRequestException or Chat.Client.ChatApiException or IOException)
{
    Console.Error.WriteLine("failed: " + e.Message);
    return 1;
}

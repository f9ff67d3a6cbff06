using System.Collections.Concurrent;
using System.Net;
using Chat.Client;
using Chat.Protocol;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// The real server (the real Program) on a real socket, 127.0.0.1 port 0, with its own temporary data folder.
/// Any error-level log line fails the test at dispose (unless the test expects it).
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly List<HttpClient> _clients = [];
    private int _userCounter;

    public Uri BaseAddress { get; }
    public string DataDir { get; }
    public ConcurrentQueue<string> Errors { get; } = new();
    public bool AllowErrors { get; set; }
    public IServiceProvider Services => _factory.Services;

    private TestServer(WebApplicationFactory<Program> factory, string dataDir, Uri baseAddress)
    {
        _factory = factory;
        DataDir = dataDir;
        BaseAddress = baseAddress;
    }

    /// <param name="settings">Configuration overrides, e.g. ("Chat:RateLimit:MessagesPerMinute", "0").</param>
    public static Task<TestServer> StartAsync(params (string Key, string Value)[] settings) => StartAsync(null, settings);

    public static Task<TestServer> StartAsync(string? dataDir, params (string Key, string Value)[] settings) =>
        StartWithAsync(new TestServerSetup(DataDir: dataDir), settings);

    /// <summary>Starts with a setup beyond configuration: a clock of the test's own, extra service registrations.</summary>
    public static Task<TestServer> StartWithAsync(TestServerSetup setup, params (string Key, string Value)[] settings)
    {
        string? dataDir = setup.DataDir;
        dataDir ??= Path.Combine(Path.GetTempPath(), "chat-tests", Guid.NewGuid().ToString("N"));
        var errors = new ConcurrentQueue<string>();
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Chat:DataDir", dataDir);
            b.UseSetting("Chat:RateLimit:MessagesPerMinute", "0");
            // The suites register many users from 127.0.0.1, which is not exempt; K3 tests set these themselves.
            b.UseSetting("Chat:RateLimit:LoginsPerMinute", "0");
            b.UseSetting("Chat:RateLimit:RegistrationsPerMinute", "0");
            foreach (var (key, value) in settings) b.UseSetting(key, value);
            b.ConfigureLogging(l => l.AddProvider(new ErrorCollector(errors)));
            b.ConfigureTestServices(services =>
            {
                // Registered after the server's own TimeProvider.System, so this one is resolved.
                if (setup.Time is { } time) services.AddSingleton(time);
                setup.Services?.Invoke(services);
            });
        });
        factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var server = new TestServer(factory, dataDir, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
        foreach (var e in errors) server.Errors.Enqueue(e);
        factory.Services.GetRequiredService<ILoggerFactory>().AddProvider(new ErrorCollector(server.Errors));
        return Task.FromResult(server);
    }

    public ChatApi Api(string? token = null)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        lock (_clients) _clients.Add(http);
        return new ChatApi(http, token);
    }

    /// <summary>Registers a fresh user (unique name) and returns its signed-in API.</summary>
    public async Task<(ChatApi Api, AuthResponse Auth)> NewUserAsync(string? prefix = null, string? deviceName = null)
    {
        var api = Api();
        string name = $"{prefix ?? "user"}{Interlocked.Increment(ref _userCounter)}-{Guid.NewGuid().ToString("N")[..6]}";
        var auth = await api.RegisterAsync(name, "password123", deviceName: deviceName);
        return (api, auth);
    }

    /// <summary>A second device (login) of an existing user.</summary>
    public async Task<(ChatApi Api, AuthResponse Auth)> LoginAsync(string username, string? deviceName = null)
    {
        var api = Api();
        return (api, await api.LoginAsync(username, "password123", deviceName));
    }

    public Task<ChatSocket> ConnectAsync(string token, bool autoAck = true) => ChatSocket.ConnectAsync(BaseAddress, token, autoAck);

    /// <summary>Connects and consumes the ready frame.</summary>
    public async Task<ChatSocket> ConnectReadyAsync(string token, bool autoAck = true)
    {
        var socket = await ConnectAsync(token, autoAck);
        await socket.NextAsync("ready");
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients) c.Dispose();
        await _factory.DisposeAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
        if (!AllowErrors && !Errors.IsEmpty)
            throw new Xunit.Sdk.XunitException("The server logged errors:\n" + string.Join('\n', Errors));
    }

    private sealed class ErrorCollector(ConcurrentQueue<string> errors) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, errors);
        public void Dispose() { }

        private sealed class Logger(string category, ConcurrentQueue<string> errors) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Error) errors.Enqueue($"{category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}

/// <param name="Time">The server's clock, e.g. a FakeTimeProvider the test advances (see <see cref="FakeClock"/>).</param>
/// <param name="Services">Registrations applied after the server's own (they replace them), e.g. a failing decorator.</param>
public sealed record TestServerSetup(TimeProvider? Time = null, Action<IServiceCollection>? Services = null, string? DataDir = null);

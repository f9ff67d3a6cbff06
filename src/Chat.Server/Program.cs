using Chat.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
// The seed's port by default; --urls and ASPNETCORE_URLS (both land in "urls") win.
if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.Configuration["urls"] = "http://localhost:8080";
builder.AddChat();

var app = builder.Build();
app.UseChat();
app.Run();

/// <summary>Entry point; public so tests can boot the real host.</summary>
public partial class Program;

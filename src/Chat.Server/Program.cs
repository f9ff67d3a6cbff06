using Chat.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddChat();

var app = builder.Build();
app.UseChat();
app.Run();

/// <summary>Entry point; public so tests can boot the real host.</summary>
public partial class Program;

using Federation.Cli;

return FedCli.Run(args, Console.Out, Console.Error);

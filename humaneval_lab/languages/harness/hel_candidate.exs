# The candidate's side (humaneval_lab/languages/elixir.py): loads prompt + completion (main.exs,
# never the tests), says "R" on fd 4, then answers each "C <name> <args>" read on fd 3 with
# "V <value>" or "E <message>" (base64 of the Erlang external term format). Runs as the sample's
# uid; nothing here is trusted or secret: the judge believes only plain values it can decode.
defmodule HelCandidate do
  def serve(module, port) do
    case read_line(port, []) do
      "C " <> rest ->
        [name, payload] = String.split(rest, " ", parts: 2)
        Port.command(port, answer(module, name, payload))
        serve(module, port)

      _ ->
        :ok
    end
  end

  defp read_line(port, acc) do
    receive do
      {^port, {:data, {:eol, chunk}}} -> IO.iodata_to_binary([acc, chunk])
      {^port, {:data, {:noeol, chunk}}} -> read_line(port, [acc, chunk])
      {^port, :eof} -> :eof
    end
  end

  defp answer(module, name, payload) do
    try do
      args = :erlang.binary_to_term(Base.decode64!(payload))
      "V " <> Base.encode64(:erlang.term_to_binary(apply(module, String.to_atom(name), args))) <> "\n"
    rescue
      e -> error(Exception.format_banner(:error, e, __STACKTRACE__))
    catch
      kind, reason -> error(Exception.format_banner(kind, reason, __STACKTRACE__))
    end
  end

  defp error(msg), do: "E " <> Base.encode64(:erlang.term_to_binary(String.slice(msg, 0, 500))) <> "\n"
end

[module | _] = File.read!("hel_candidate.cfg") |> String.split("\n", trim: true)
hel_port = Port.open({:fd, 3, 4}, [:binary, {:line, 65_536}, :eof])
Code.require_file("main.exs")
Port.command(hel_port, "R\n")
HelCandidate.serve(Module.concat([module]), hel_port)

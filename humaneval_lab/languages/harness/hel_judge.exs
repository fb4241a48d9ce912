# The trusted Elixir judge (humaneval_lab/languages/elixir.py). It runs the problem's ExUnit tests,
# unchanged but for their autorun, in this VM, under a uid of its own, in a dir the candidate cannot
# read. The candidate's module is, here, a module of stubs with the same name: each public function
# of the prompt (every arity up to 8) sends "C <name> <args>" on fd 4 and reads "V <value>" or
# "E <message>" on fd 3 (base64 of the Erlang external term format). No candidate code runs here.
#
# Which side is trusted decides the codec: this judge decodes what the candidate sends with
# binary_to_term (never code), refuses compressed terms (a decompression bomb), and then walks the
# term: only numbers, atoms, bitstrings, lists, tuples and maps without a :__struct__ key pass. A
# fun, pid, port or reference, or a struct (whose protocols, Enumerable's for a %Stream{} of funs,
# would run what the candidate chose), ends the judge with "error". So `==` in the tests, and what
# they compute from the value, is Erlang's own on plain data.
#
# Exit code = verdict (Program.judge): 0 passed, 1 a test assertion failed, 2 error (the candidate
# raised or sent something unusable, or the tests raised), 3 the candidate went away, 4 the judge
# itself failed. The last stderr line is the reason. System.halt everywhere: no at_exit hook runs.
defmodule HelJudge do
  @max_depth 10_000
  # Atoms the judge does not know yet are created only for answers this small (the atom table is
  # finite); a larger answer must use known atoms.
  @unsafe_max 1_048_576
  @max_line 16_777_216

  def finish(code, reason) do
    IO.write(:stderr, "\n" <> String.replace(to_string(reason), ~r/\s+/, " ") <> "\n")
    System.halt(code)
  end

  def short(term, max \\ 100) do
    s = inspect(term, limit: 20, printable_limit: max)
    if String.length(s) > max, do: String.slice(s, 0, max - 3) <> "...", else: s
  end

  # One process owns the channel (an Erlang port on fds 3 and 4: reopening a pipe through
  # /proc/self/fd with File.open does not work for both directions here); the tests' processes ask
  # it for one exchange at a time.
  def channel do
    port = Port.open({:fd, 3, 4}, [:binary, {:line, 65_536}, :eof])
    serve(port)
  end

  defp serve(port) do
    receive do
      {:exchange, from, out} ->
        if out != nil, do: Port.command(port, out)
        send(from, {:hel_line, read_line(port, [], 0)})
        serve(port)
    end
  end

  defp read_line(port, acc, size) do
    receive do
      {^port, {:data, {:eol, chunk}}} -> IO.iodata_to_binary([acc, chunk])
      {^port, {:data, {:noeol, chunk}}} when size + byte_size(chunk) > @max_line -> :too_long
      {^port, {:data, {:noeol, chunk}}} -> read_line(port, [acc, chunk], size + byte_size(chunk))
      {^port, :eof} -> :eof
    end
  end

  # Sends `out` (nil: nothing), then waits for the candidate's next line.
  def exchange(out, waiting_for) do
    send(:hel_channel, {:exchange, self(), out})

    receive do
      {:hel_line, :eof} -> finish(3, "the candidate ended while #{waiting_for}")
      {:hel_line, :too_long} -> finish(2, "the candidate sent more than #{@max_line} bytes while #{waiting_for}")
      {:hel_line, line} -> line
    end
  end

  def decode(text) do
    with {:ok, bin} <- Base.decode64(text),
         <<131, tag, _::binary>> when tag != 80 <- bin,
         {:ok, term} <- to_term(bin),
         :ok <- plain(term, 0) do
      {:ok, term}
    else
      {:error, why} -> {:error, why}
      _ -> {:error, "something that is not one uncompressed term"}
    end
  end

  defp to_term(bin) do
    try do
      {:ok, :erlang.binary_to_term(bin, [:safe])}
    rescue
      ArgumentError ->
        if byte_size(bin) <= @unsafe_max do
          try do
            {:ok, :erlang.binary_to_term(bin)}
          rescue
            ArgumentError -> {:error, "no valid term"}
          end
        else
          {:error, "a large term with atoms the tests do not know"}
        end
    end
  end

  defp plain(_, depth) when depth > @max_depth, do: {:error, "a value nested too deeply"}
  defp plain(t, _) when is_number(t) or is_atom(t) or is_bitstring(t), do: :ok
  defp plain([], _), do: :ok
  defp plain([h | t], depth), do: both(plain(h, depth + 1), fn -> plain(t, depth + 1) end)
  defp plain(t, depth) when is_tuple(t), do: plain(Tuple.to_list(t), depth + 1)

  defp plain(t, depth) when is_map(t) do
    if Map.has_key?(t, :__struct__),
      do: {:error, "a struct (only plain data crosses)"},
      else: plain(Enum.flat_map(t, fn {k, v} -> [k, v] end), depth + 1)
  end

  defp plain(t, _), do: {:error, "a #{kind(t)} (only plain data crosses)"}

  defp both(:ok, next), do: next.()
  defp both(err, _), do: err

  defp kind(t) when is_function(t), do: "function"
  defp kind(t) when is_pid(t), do: "pid"
  defp kind(t) when is_port(t), do: "port"
  defp kind(t) when is_reference(t), do: "reference"
  defp kind(_), do: "value of an unknown kind"

  def call(name, args) do
    what = "#{name}(#{String.slice(short(args, 102), 1..-2//1)})"
    payload = Base.encode64(:erlang.term_to_binary(args))

    case exchange("C #{name} #{payload}\n", "the tests waited for #{what}") do
      "V " <> text ->
        case decode(text) do
          {:ok, value} -> value
          {:error, why} -> finish(2, "#{what} answered #{why}")
        end

      "E " <> text ->
        msg =
          case decode(text) do
            {:ok, m} when is_binary(m) -> String.slice(m, 0, 100)
            _ -> "(unreadable)"
          end

        finish(2, "#{what} raised #{msg}")

      _ ->
        finish(2, "#{what} answered with no value")
    end
  end

  def stub_module(module, names) do
    defs =
      for name <- names, arity <- 0..8 do
        args = Macro.generate_arguments(arity, __MODULE__)
        quote do
          def unquote(name)(unquote_splicing(args)), do: HelJudge.call(unquote(name), unquote(args))
        end
      end

    Module.create(module, {:__block__, [], defs}, file: "hel_stubs.exs", line: 1)
  end

  def main do
    [module | names] = File.read!("hel_judge.cfg") |> String.split("\n", trim: true)
    Process.register(spawn(&channel/0), :hel_channel)
    if exchange(nil, "loading its code") != "R", do: finish(2, "the candidate sent something else before ready")
    stub_module(Module.concat([module]), Enum.map(names, &String.to_atom/1))
    ExUnit.start(autorun: false)

    try do
      Code.require_file("tests.exs")
    rescue
      e -> finish(2, "the tests did not load: " <> short(Exception.message(e), 150))
    end

    result = ExUnit.run()

    cond do
      result.total == 0 -> finish(2, "no test ran")
      result.failures > 0 -> finish(1, "#{result.failures} of #{result.total} tests failed")
      true -> finish(0, "passed")
    end
  end
end

try do
  HelJudge.main()
rescue
  e -> HelJudge.finish(4, "the judge failed: " <> Exception.message(e))
end

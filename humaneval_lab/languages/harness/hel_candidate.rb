# frozen_string_literal: true

# The candidate's side (humaneval_lab/languages/ruby.py): loads the prompt + completion (main.rb,
# never the tests), says {"ready": true} on fd 4, then answers each {"call": name, "args": [...]}
# read on fd 3 with {"value": ...} or {"error": "..."}. Runs as the sample's uid; nothing here is
# trusted or secret: the judge believes only values it can parse, and compares them itself.
require_relative 'hel_codec'

hel_in = IO.for_fd(3, 'rb')
hel_out = IO.for_fd(4, 'wb')
hel_out.sync = true
load File.expand_path('main.rb', __dir__)
hel_out.write(HelCodec.line({ 'ready' => true }))
hel_self = TOPLEVEL_BINDING.receiver
while (line = hel_in.gets)
  begin
    msg = JSON.parse(line, create_additions: false)
    answer = { 'value' => HelCodec.encode(hel_self.__send__(msg['call'], *HelCodec.decode(msg['args']))) }
  rescue StandardError, ScriptError, SystemStackError, NoMemoryError => e
    answer = { 'error' => "#{e.class}: #{e.message}".scrub[0, 500] }
  end
  begin
    out = HelCodec.line(answer)
  rescue StandardError => e
    out = HelCodec.line({ 'error' => "cannot send the answer: #{e.class}".scrub })
  end
  hel_out.write(out)
end

# frozen_string_literal: true

# The trusted Ruby judge (humaneval_lab/languages/ruby.py). It runs the problem's tests, unchanged,
# in this process, under a uid of its own, in a dir the candidate cannot read. Every function the
# tests call that the candidate defines is a stub here: it sends {"call": name, "args": [...]} on
# fd 4 and reads the answer on fd 3 (hel_codec.rb). No candidate code runs here; what it sends is
# parsed strictly into fresh plain values, so `==` in the tests is Ruby's own on plain data.
#
# Exit code = verdict (Program.judge): 0 passed, 1 a test assertion failed, 2 error (the candidate
# raised or sent something unusable, or the tests raised), 3 the candidate went away. The last
# stderr line is the reason. exit! everywhere: no at_exit hook (test/unit's autorun) runs after it.
require_relative 'hel_codec'

module HelJudge
  DIR = __dir__
  CONFIG = JSON.parse(File.read(File.join(DIR, 'hel_judge.json')))
  TESTS = File.join(DIR, 'tests.rb')
  PASSED, FAILED, ERROR, GONE = 0, 1, 2, 3
  REASON_MAX = 200

  @in = IO.for_fd(3, 'rb')
  @out = IO.for_fd(4, 'wb')
  @out.sync = true
  @last = nil # [name, args, value] of the last call that returned

  class << self
    attr_reader :last

    def finish(code, reason)
      $stdout.flush
      $stderr.write("\n#{reason.to_s.gsub(/\s+/, ' ').strip}\n")
      $stderr.flush
      exit!(code)
    end

    # The next message from the candidate, parsed; ends the judge if there is none or it is garbage.
    def receive(waiting_for)
      line = @in.gets("\n", HelCodec::MAX_LINE + 1)
      finish(GONE, "the candidate ended while #{waiting_for}") if line.nil?
      unless line.end_with?("\n")
        finish(ERROR, "the candidate sent more than #{HelCodec::MAX_LINE} bytes") if line.bytesize > HelCodec::MAX_LINE
        finish(GONE, "the candidate ended while #{waiting_for}")
      end
      HelCodec.parse(line.chomp)
    rescue HelCodec::BadMessage => e
      finish(ERROR, "the candidate sent #{e.message} while #{waiting_for}")
    rescue IOError, SystemCallError
      finish(GONE, "the candidate ended while #{waiting_for}")
    end

    def short(obj, max = 80)
      s = obj.inspect
      s.length > max ? "#{s[0, max - 3]}..." : s
    end

    def call_text(name, args)
      "#{name}(#{short(args, 100)[1...-1]})"
    end

    def test_line(locations)
      loc = locations.find { |l| l.to_s.start_with?("#{TESTS}:") }
      return nil unless loc

      n = loc.to_s[TESTS.length + 1..].to_i
      src = File.readlines(TESTS)[n - 1].to_s.strip
      "tests.rb:#{n}: #{src}"
    end

    # "<where> -- <detail>", the detail kept whole (it says what the candidate got wrong).
    def reason(where, detail)
      detail = detail.to_s.gsub(/\s+/, ' ').strip[0, 120]
      return detail if where.nil?

      room = REASON_MAX - detail.length - 4
      where = "#{where[0, room - 3]}..." if where.length > room
      "#{where} -- #{detail}"
    end

    def call(name, args)
      begin
        request = HelCodec.line({ 'call' => name, 'args' => HelCodec.encode(args) })
      rescue HelCodec::Unencodable, JSON::GeneratorError => e
        finish(ERROR, "the tests pass #{call_text(name, args)} a value that cannot cross: #{e.message}")
      end
      begin
        @out.write(request)
      rescue IOError, SystemCallError
        finish(GONE, "the candidate ended before #{call_text(name, args)}")
      end
      msg = receive("the tests waited for #{call_text(name, args)}")
      where = test_line(caller_locations)
      if msg.keys == ['value']
        begin
          value = HelCodec.decode(msg['value'])
        rescue HelCodec::BadMessage => e
          finish(ERROR, reason(where, "#{call_text(name, args)} answered #{e.message}"))
        end
        @last = [name, args, value]
        value
      elsif msg.keys == ['error'] && msg['error'].instance_of?(String)
        finish(ERROR, reason(where, "#{call_text(name, args)} raised #{msg['error'][0, 100]}"))
      else
        finish(ERROR, reason(where, "#{call_text(name, args)} answered with no value (#{short(msg.keys, 40)})"))
      end
    end

    def got
      @last ? "got #{short(@last[2], 60)} from #{call_text(@last[0], @last[1])}" : 'no call returned'
    end

    # Stubs for the names the tests call, on Object (where the candidate's top-level methods would
    # be), private like a top-level def; never over a method the tests or Ruby already have.
    def stub(names)
      names.each do |name|
        sym = name.to_sym
        next if Object.method_defined?(sym) || Object.private_method_defined?(sym)

        Object.send(:define_method, sym) { |*args| HelJudge.call(name, args) }
        Object.send(:private, sym)
      end
    end

    # The judge starts with --disable-gems (RubyGems costs most of a start): test-unit and
    # power_assert, bundled gems, are put on the load path directly, or RubyGems finds them.
    def require_test_unit
      libs = Dir.glob('/usr/lib/ruby/gems/*/gems/{test-unit,power_assert}-*/lib').sort
      if libs.map { |l| l[%r{/gems/([a-z_-]+)-[^/]*/lib\z}, 1] }.uniq.size == 2
        $LOAD_PATH.unshift(*libs)
      else
        require 'rubygems'
      end
      require 'test/unit'
    end

    def run_test_unit
      require 'test/unit/collector/descendant'
      require 'test/unit/ui/console/testrunner'
      Test::Unit::AutoRunner.need_auto_run = false
      load(TESTS)
      suite = Test::Unit::Collector::Descendant.new.collect
      result = Test::Unit::UI::Console::TestRunner.run(suite, output: $stderr)
      failure = result.failures.first
      finish(FAILED, reason(test_line(failure.location), failure.message)) if failure
      error = result.errors.first
      if error
        where = test_line(error.location)
        finish(ERROR, reason(where, "#{error.exception.class}: #{error.exception.message}"))
      end
      finish(ERROR, 'no test ran') if result.run_count.zero?
      finish(ERROR, "the tests did not pass (#{result.summary})") unless result.passed?
      finish(PASSED, 'passed')
    end

    # Native tests: top-level code that raises (`raise "..." unless ...`) when a check fails.
    def run_script
      load(TESTS)
      finish(PASSED, 'passed')
    rescue SystemExit => e
      finish(ERROR, "the tests exited (#{e.status})")
    rescue Exception => e # rubocop:disable Lint/RescueException -- any failure of the tests is a verdict
      where = test_line(e.backtrace_locations || [])
      code = e.instance_of?(RuntimeError) ? FAILED : ERROR
      detail = code == FAILED ? "#{e.message}; #{got}" : "#{e.class}: #{e.message}"
      finish(code, reason(where, detail))
    end
  end
end

begin
  msg = HelJudge.receive('loading its code')
  HelJudge.finish(HelJudge::ERROR, 'the candidate sent something else before ready') unless msg == { 'ready' => true }
  # test/unit first (its methods, not stubs, answer its names), then the stubs, then the tests.
  HelJudge.require_test_unit if HelJudge::CONFIG['test_unit']
  HelJudge.stub(HelJudge::CONFIG.fetch('names'))
  HelJudge::CONFIG['test_unit'] ? HelJudge.run_test_unit : HelJudge.run_script
rescue Exception => e # rubocop:disable Lint/RescueException -- ours must not read as the candidate's verdict
  HelJudge.finish(4, "the judge failed: #{e.class}: #{e.message}")
end

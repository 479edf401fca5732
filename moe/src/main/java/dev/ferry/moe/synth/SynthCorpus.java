package dev.ferry.moe.synth;

/**
 * The built-in English text the synthetic tokenizer learns its merges from: a few paragraphs
 * about ferries, ships and rivers, written for ferry, plus the words chat prompts use most.
 */
final class SynthCorpus {

    private SynthCorpus() {
    }

    static final String TEXT = """
            The river was wide and slow in the morning, and the old ferry crossed it twelve times a day. \
            Before the bridge was built, everyone who lived on the east bank knew the ferryman by name. \
            He rang a brass bell when the boat was ready to leave, and the sound carried over the water \
            to the farms, the mill and the little school on the hill.

            A ship is a patient machine. Its hull is shaped to push the water aside without a fight, \
            its engine turns a single propeller, and its rudder answers the smallest movement of the \
            wheel. On a calm day the captain can hold a course for hours with only a touch of the hand. \
            When the wind rises, the same ship rolls and pitches, and every sailor on deck holds on to \
            the rail.

            Rivers carry more than boats. They carry sand from the mountains, leaves from the forests \
            and the stories of the towns they pass. Near the sea the current slows, the channel spreads \
            into many small streams, and the land they build is rich and green. Birds gather there in \
            thousands, and fishermen set their nets at dawn and again at dusk.

            In the harbour, cranes lift containers from the decks of cargo ships. Each container has a \
            number, a weight and a destination, and a computer decides where it should stand on the \
            quay. Trucks wait in long lines, trains leave for the cities inland, and the empty ships \
            sail out again with the evening tide. A large port can move thousands of containers in a \
            single day.

            The ferry of today is faster than the old wooden boat. It has two engines, radar, a radio \
            and room for cars, bicycles and three hundred passengers. Still, the crossing feels the \
            same: the gulls follow the wake, children lean over the side to watch the waves, and the \
            far shore grows slowly larger until the ramp comes down with a heavy sound.

            Navigation is the art of knowing where you are and where you are going. Sailors once \
            watched the stars, the sun and the colour of the water. Later they used maps, compasses and \
            clocks, and now a small receiver reads signals from satellites. A good navigator still \
            looks out of the window, because the sea does not always agree with the chart.

            User: Can you tell me how a lock on a canal works?
            Assistant: Of course. A lock is a chamber with gates at both ends. When a boat goes up, it \
            enters the lower gate, the gate closes, and water flows in from above until the level is \
            the same as the upper canal. Then the upper gate opens and the boat continues its journey. \
            Going down works the other way round.

            User: What is the longest river in the world?
            Assistant: The Nile and the Amazon are both close to 6,600 kilometres long, and the answer \
            depends on how their sources are measured. The Amazon carries far more water than any \
            other river: about one fifth of all the fresh water that flows into the oceans.

            Thank you for the question. Here is a short summary: ships, boats and ferries move people \
            and goods across water; rivers shape the land; and ports connect the sea with the roads \
            and railways of the country. If you would like to know more, please ask another question.
            """;
}

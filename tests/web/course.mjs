// The seeded course's material: two pages of real biology for the reader and the tutor, a third
// and fourth behind a prerequisite and a release date, and the assessments with a question of
// every type the grading plugin supports. Plain data; seed.mjs sends it through the API.

/** The long page: several h2 and h3 sections, a table, a formula, so the tutor cites sections. */
export const OVERVIEW = `Almost every living thing on Earth depends, directly or indirectly, on photosynthesis: the
process by which plants, algae and cyanobacteria capture the energy of sunlight and store it in
the chemical bonds of sugar. This page follows that process from the light falling on a leaf to
the sugar leaving it.

## Why photosynthesis matters

Photosynthesis is the entry point of energy into nearly every food chain. The sugar a plant makes
feeds the plant itself, the animals that eat it and the decomposers that break both down. The
oxygen in the air we breathe was released by photosynthesis, mostly by ocean plankton over the
last two and a half billion years, and the coal, oil and gas we burn are the remains of
organisms that stored the energy of ancient sunlight.

Photosynthesis also removes carbon dioxide from the atmosphere. Forests and oceans together take
up roughly half of the carbon dioxide that human activity releases each year, which is why
changes in plant cover matter for the climate.

## The overall equation

The whole process is usually summarised in one balanced equation:

$$6\\,CO_2 + 6\\,H_2O \\xrightarrow{\\text{light}} C_6H_{12}O_6 + 6\\,O_2$$

Six molecules of carbon dioxide and six molecules of water, with energy from light, give one
molecule of glucose and six molecules of oxygen. The equation hides two separate stages: the
light-dependent reactions, which capture energy, and the Calvin cycle, which uses that energy to
build sugar. Experiments with water labelled with the heavy isotope oxygen-18 showed that the
oxygen released comes from the water, not from the carbon dioxide.

## Where it happens: the chloroplast

In plants, photosynthesis takes place in chloroplasts, organelles found mainly in the mesophyll
cells of leaves. A single mesophyll cell can hold thirty to forty chloroplasts. Carbon dioxide
enters the leaf through small pores called stomata, and water arrives from the roots through the
xylem.

### Thylakoids and stroma

Inside each chloroplast is a system of flattened membrane sacs called thylakoids, stacked into
piles called grana. The light-dependent reactions happen in the thylakoid membranes. The thick
fluid around the thylakoids is the stroma, and the Calvin cycle takes place there, in the
stroma, where the enzymes that fix carbon dioxide are dissolved.

### Chlorophyll and accessory pigments

The thylakoid membranes hold the pigments that absorb light. Chlorophyll a is the main pigment;
chlorophyll b and the orange carotenoids are accessory pigments that absorb other wavelengths
and pass the energy on. Chlorophyll absorbs blue and red light strongly and reflects green
light, which is why leaves look green.

## The light-dependent reactions

The light-dependent reactions turn light energy into chemical energy in two carrier molecules,
ATP and NADPH, and release oxygen as a by-product.

### Photosystem II and the splitting of water

Light absorbed by photosystem II excites electrons in its reaction centre, a chlorophyll a pair
called P680 that absorbs best at 680 nanometres. The excited electrons are passed to an electron
acceptor. To replace them, an enzyme complex splits water into electrons, hydrogen ions and
oxygen. This splitting of water, called photolysis, is the source of the oxygen that plants
release.

### The electron transport chain and ATP

The electrons flow from photosystem II down an electron transport chain in the thylakoid
membrane. As they move, their energy pumps hydrogen ions into the thylakoid space, building up a
concentration gradient. The ions flow back out through ATP synthase, an enzyme that uses their
movement to make ATP from ADP and phosphate. This way of making ATP is called chemiosmosis.

### Photosystem I and NADPH

At the end of the chain the electrons reach photosystem I, whose reaction centre P700 absorbs a
second photon and re-energises them. The enzyme NADP+ reductase then uses the electrons to reduce
NADP+ to NADPH. ATP and NADPH leave the thylakoids for the stroma, where the Calvin cycle spends
them.

## The Calvin cycle

The Calvin cycle builds sugar from carbon dioxide using the ATP and NADPH made in the light. It
does not use light directly, which is why it is sometimes called the light-independent
reactions, but in practice it runs during the day, when ATP and NADPH are available.

### Carbon fixation by RuBisCO

The enzyme RuBisCO attaches each molecule of carbon dioxide to a five-carbon sugar, ribulose
bisphosphate (RuBP). The six-carbon product is unstable and immediately splits into two
molecules of a three-carbon compound, 3-phosphoglycerate. RuBisCO is probably the most abundant
protein on Earth, partly because it is slow: a leaf needs a great deal of it.

### Reduction and regeneration

ATP and NADPH then reduce 3-phosphoglycerate to glyceraldehyde 3-phosphate (G3P), a three-carbon
sugar. For every three molecules of carbon dioxide fixed, one molecule of G3P leaves the cycle to
make glucose, sucrose or starch; the other five G3P molecules are rearranged, using more ATP, to
regenerate RuBP so the cycle can continue.

## Limiting factors

The rate of photosynthesis is set by whichever factor is in shortest supply, the limiting
factor. Raising any other factor does not speed it up.

| Factor | What happens as it rises | Why it stops helping |
| --- | --- | --- |
| Light intensity | More light-dependent reactions, more ATP and NADPH | Another factor becomes limiting, usually carbon dioxide |
| Carbon dioxide concentration | RuBisCO fixes carbon faster | Light or temperature becomes limiting |
| Temperature | Enzymes such as RuBisCO work faster | Above about 35 °C enzymes denature and stomata close |

### Light intensity

At low light intensity the rate rises in proportion to the light. Growers in greenhouses use
artificial lighting in winter for this reason.

### Carbon dioxide concentration

Air holds about 0.04 % carbon dioxide, and this is often the limiting factor on a bright day.
Greenhouse growers sometimes raise the concentration to around 0.1 % with burners or bottled
gas, which can increase yields by a fifth or more, as long as light and temperature keep up.

### Temperature

The light-dependent reactions are barely affected by temperature, but the Calvin cycle is a chain
of enzyme reactions and speeds up with warmth, up to an optimum. Above it, enzymes lose their
shape and the plant closes its stomata to save water, which also shuts out carbon dioxide.

## C4 and CAM plants

In hot, dry conditions RuBisCO increasingly binds oxygen instead of carbon dioxide, a wasteful
process called photorespiration. C4 plants such as maize and sugar cane avoid it by first
fixing carbon dioxide into a four-carbon compound in the mesophyll and releasing it around
RuBisCO in deeper bundle-sheath cells. CAM plants such as cacti and pineapple open their stomata
only at night, store the carbon dioxide as malic acid, and release it to the Calvin cycle during
the day with their stomata closed.
`;

/** The second page: light and pigments. */
export const PIGMENTS = `Plants use only a narrow band of the sun's radiation, and which colours they use decides
how fast they grow under different lights.

## The visible spectrum

Visible light runs from violet at about 400 nanometres to red at about 700 nanometres. Shorter
wavelengths carry more energy per photon. Photosynthesis uses this same band, which biologists
call photosynthetically active radiation (PAR).

## Absorption spectra

An absorption spectrum shows how strongly a pigment absorbs each wavelength. It is measured by
shining light of one colour at a time through a pigment extract and recording how much passes
through.

### Chlorophyll a and b

Chlorophyll a absorbs most strongly in the blue-violet, around 430 nanometres, and in the red,
around 660 to 680 nanometres. Chlorophyll b absorbs slightly different wavelengths, around 450
and 640 nanometres, widening the range of light the plant can use. Both reflect green light.

### Carotenoids

Carotenoids such as beta-carotene absorb blue and green light and look yellow or orange. They
pass absorbed energy to chlorophyll and protect it from damage by excess light. In autumn,
chlorophyll breaks down first, and the carotenoids that were there all along become visible.

## The action spectrum and Engelmann's experiment

An action spectrum shows the rate of photosynthesis at each wavelength. In 1882 Theodor Wilhelm
Engelmann shone a tiny spectrum onto a strand of green alga and added bacteria that gather where
oxygen is plentiful. The bacteria clustered under the blue and red parts of the spectrum,
showing that those colours drive photosynthesis most, which matches the absorption spectrum of
chlorophyll.
`;

/** Behind a prerequisite: the quiz first. */
export const RESPIRATION = `Cellular respiration releases the energy stored by photosynthesis.

## Aerobic respiration

Glucose and oxygen give carbon dioxide, water and about thirty molecules of ATP. It happens in
the cytoplasm and the mitochondria.

## Glycolysis

Glycolysis splits glucose into two molecules of pyruvate in the cytoplasm, gaining two ATP.
`;

/** Released in two weeks: hidden from students until then. */
export const FERMENTATION = `Without oxygen, cells fall back on fermentation.

## Alcoholic fermentation

Yeast turns pyruvate into ethanol and carbon dioxide.
`;

/** A one-page PDF summary sheet (PDF 1.4, Helvetica, offsets computed). */
export function summaryPdf() {
  const lines = [
    ['F1', 20, 'Photosynthesis: summary sheet'],
    ['F2', 12, '6 CO2 + 6 H2O + light energy -> C6H12O6 + 6 O2'],
    ['F2', 12, 'Light-dependent reactions: thylakoid membranes; make ATP and NADPH; release O2.'],
    ['F2', 12, 'Calvin cycle: stroma; RuBisCO fixes CO2; G3P is made into glucose.'],
    ['F2', 12, 'Limiting factors: light intensity, CO2 concentration, temperature.'],
    ['F2', 10, 'Northfield College, BIO-110 Plant Biology.'],
  ];
  const escape = (s) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  let y = 760;
  const text = lines
    .map(([font, size, s]) => {
      const line = `BT /${font} ${size} Tf 56 ${y} Td (${escape(s)}) Tj ET`;
      y -= size + 14;
      return line;
    })
    .join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(text)} >>\nstream\n${text}\nendstream`,
    '<< /Title (Photosynthesis: summary sheet) /Producer (Lectern tests/web/seed.mjs) >>',
  ];
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${objects.length} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

// ---- Assessments ----

const option = (id, correct = false, feedback = null) => ({ id, correct, weight: correct ? 1 : 0, feedback });
const alt = (pattern, { regex = false, credit = 1, feedback = null } = {}) => ({ pattern, regex, credit, feedback });
const text = (alternatives, { caseSensitive = false } = {}) => ({
  alternatives,
  case_sensitive: caseSensitive,
  normalize_whitespace: true,
});

/**
 * The proctored quiz: one question of every type in the `AnswerKey` schema (single_choice,
 * multiple_choice, true_false, numeric with units, short_answer, matching, ordering, fill_blanks,
 * essay). Each entry carries `answer`, a right response (an `AnswerResponse`) for tests, beside
 * the question the API takes. Blanks in a fill_blanks prompt are written `____`.
 */
export const QUIZ_QUESTIONS = [
  {
    question: {
      id: 'organelle',
      prompt: 'In which organelle does photosynthesis take place?',
      points: 1,
      labels: { chloroplast: 'Chloroplast', mitochondrion: 'Mitochondrion', ribosome: 'Ribosome', nucleus: 'Nucleus' },
      hints: ['It contains the green pigment.', 'Its name comes from the Greek word for green.'],
      key: {
        single_choice: {
          rule: 'all_or_nothing',
          options: [
            option('chloroplast', true, 'Right: chloroplasts hold chlorophyll and the enzymes of both stages.'),
            option('mitochondrion', false, 'Mitochondria release energy in respiration; they do not capture light.'),
            option('ribosome', false, 'Ribosomes make proteins.'),
            option('nucleus', false, 'The nucleus holds the DNA.'),
          ],
        },
      },
    },
    answer: { choices: ['chloroplast'] },
  },
  {
    question: {
      id: 'inputs',
      prompt: 'Which of these does photosynthesis use up? Choose all that apply.',
      points: 2,
      labels: { water: 'Water', co2: 'Carbon dioxide', oxygen: 'Oxygen', glucose: 'Glucose' },
      key: {
        multiple_choice: {
          rule: 'right_minus_wrong',
          options: [
            option('water', true),
            option('co2', true),
            option('oxygen', false, 'Oxygen is released, not used.'),
            option('glucose', false, 'Glucose is the product.'),
          ],
        },
      },
    },
    answer: { choices: ['water', 'co2'] },
  },
  {
    question: {
      id: 'oxygen_source',
      prompt: 'True or false: the oxygen that plants release comes from water.',
      points: 1,
      key: { true_false: true },
    },
    answer: { boolean: true },
  },
  {
    question: {
      id: 'wavelength',
      prompt: 'At what wavelength does the reaction centre of photosystem II absorb light best? Give the unit.',
      points: 2,
      hints: ['Its name, P680, is a clue.'],
      key: {
        numeric: {
          value: 680,
          absolute_tolerance: null,
          relative_tolerance: 0.01,
          units: [
            { name: 'nm', factor: 1 },
            { name: 'µm', factor: 1000 },
          ],
          unit_missing_credit: 0.5,
        },
      },
    },
    answer: { number: { value: 680, unit: 'nm' } },
  },
  {
    question: {
      id: 'pigment',
      prompt: 'Name the main pigment that absorbs light in the thylakoid membranes.',
      points: 1,
      key: {
        short_answer: text([
          alt('chlorophyll', { feedback: 'Yes: chlorophyll a, helped by chlorophyll b.' }),
          alt('chlorophyll\\s*[ab]', { regex: true }),
          alt('carotene', { credit: 0, feedback: 'Carotenoids are accessory pigments; the main one is green.' }),
        ]),
      },
    },
    answer: { text: 'Chlorophyll' },
  },
  {
    question: {
      id: 'stages',
      prompt: 'Match each stage or structure with where it happens.',
      points: 3,
      labels: {
        light: 'Light-dependent reactions',
        calvin: 'Calvin cycle',
        gas: 'Gas exchange',
        thylakoid: 'Thylakoid membranes',
        stroma: 'Stroma',
        stomata: 'Stomata',
      },
      key: {
        matching: [
          { left: 'light', right: 'thylakoid' },
          { left: 'calvin', right: 'stroma' },
          { left: 'gas', right: 'stomata' },
        ],
      },
    },
    answer: {
      pairs: [
        { left: 'light', right: 'thylakoid' },
        { left: 'calvin', right: 'stroma' },
        { left: 'gas', right: 'stomata' },
      ],
    },
  },
  {
    question: {
      id: 'sequence',
      prompt: 'Put the steps of the light-dependent reactions in order.',
      points: 3,
      labels: {
        absorb: 'Photosystem II absorbs light',
        split: 'Water is split and oxygen released',
        chain: 'Electrons pass along the transport chain',
        psi: 'Photosystem I re-energises the electrons',
        nadph: 'NADP+ is reduced to NADPH',
      },
      key: { ordering: ['absorb', 'split', 'chain', 'psi', 'nadph'] },
    },
    answer: { sequence: ['absorb', 'split', 'chain', 'psi', 'nadph'] },
  },
  {
    question: {
      id: 'equation',
      prompt: 'Complete the summary: 6 CO₂ + 6 H₂O → ____ + 6 ____',
      points: 2,
      key: {
        fill_blanks: [
          text([alt('glucose'), alt('C6H12O6'), alt('C₆H₁₂O₆')]),
          text([alt('O2'), alt('O₂'), alt('oxygen')]),
        ],
      },
    },
    answer: { blanks: ['glucose', 'O2'] },
  },
  {
    question: {
      id: 'greenhouse',
      prompt:
        'A grower adds carbon dioxide to a greenhouse on a bright day. Explain why the plants photosynthesise faster, and why adding more eventually stops helping.',
      points: 5,
      key: {
        essay: [
          { id: 'co2', description: 'Explains carbon dioxide as the limiting factor on a bright day', points: 3 },
          { id: 'other', description: 'Names another factor that then becomes limiting (light, temperature)', points: 2 },
        ],
      },
    },
    answer: {
      essay:
        'On a bright day carbon dioxide is the limiting factor, so RuBisCO fixes more carbon when it rises. Once light or temperature becomes limiting, more carbon dioxide changes nothing.',
    },
  },
];

/** The timed check: three quick questions against a short clock. */
export const TIMED_QUESTIONS = [
  {
    question: {
      id: 'where_calvin',
      prompt: 'Where does the Calvin cycle take place?',
      points: 1,
      labels: { stroma: 'Stroma', thylakoid: 'Thylakoid membrane', cytoplasm: 'Cytoplasm' },
      key: { single_choice: { rule: 'all_or_nothing', options: [option('stroma', true), option('thylakoid'), option('cytoplasm')] } },
    },
    answer: { choices: ['stroma'] },
  },
  {
    question: { id: 'light_needed', prompt: 'True or false: the Calvin cycle uses light directly.', points: 1, key: { true_false: false } },
    answer: { boolean: false },
  },
  {
    question: {
      id: 'enzyme',
      prompt: 'Which enzyme fixes carbon dioxide in the Calvin cycle?',
      points: 1,
      key: { short_answer: text([alt('RuBisCO'), alt('ribulose bisphosphate carboxylase.*', { regex: true })]) },
    },
    answer: { text: 'RuBisCO' },
  },
];

/** The warm-up the seed itself takes for both students, so grades and notifications exist. */
export const WARMUP_QUESTIONS = [
  {
    question: {
      id: 'colour',
      prompt: 'Which colour of light do leaves reflect most?',
      points: 1,
      labels: { green: 'Green', red: 'Red', blue: 'Blue' },
      key: {
        single_choice: {
          rule: 'all_or_nothing',
          options: [
            option('green', true, 'Right: chlorophyll reflects green light.'),
            option('red', false, 'Chlorophyll absorbs red light strongly.'),
            option('blue', false, 'Chlorophyll absorbs blue light strongly.'),
          ],
        },
      },
    },
    answer: { choices: ['green'] },
    wrong: { choices: ['red'] },
  },
  {
    question: { id: 'autotroph', prompt: 'True or false: plants make their own food.', points: 1, key: { true_false: true } },
    answer: { boolean: true },
    wrong: { boolean: false },
  },
  {
    question: {
      id: 'stomata',
      prompt: 'What are the pores in a leaf that let carbon dioxide in called?',
      points: 1,
      key: { short_answer: text([alt('stomata'), alt('stoma'), alt('pores', { credit: 0, feedback: 'They have a name: stomata.' })]) },
    },
    answer: { text: 'stomata' },
    wrong: { text: 'pores' },
  },
];

/** Opens in a few days: "upcoming" on the dashboard, and the locked item of week 2. */
export const UNIT_TEST_QUESTIONS = [
  {
    question: {
      id: 'glycolysis',
      prompt: 'Where does glycolysis take place?',
      points: 1,
      labels: { cytoplasm: 'Cytoplasm', mitochondria: 'Mitochondria' },
      key: { single_choice: { rule: 'all_or_nothing', options: [option('cytoplasm', true), option('mitochondria')] } },
    },
    answer: { choices: ['cytoplasm'] },
  },
];
